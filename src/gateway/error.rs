//! A request that is not answered with a policy, in Lambda's error shape: the one message
//! API Gateway turns into a 401, or a 500 that fails closed.

use lambda_runtime::Diagnostic;

use crate::refusal::Refusal;

/// A request that is not answered with a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The token is missing or invalid. The message must be exactly `Unauthorized`:
    /// it is API Gateway's only way to a 401 (any other message becomes a 500).
    #[error("Unauthorized")]
    Unauthorized,
    /// A dependency failed (keys unavailable) or the event is not understood: fail
    /// closed with a 500, which API Gateway does not cache.
    #[error("{0}")]
    Error(Refusal),
}

impl From<Failure> for Diagnostic {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unauthorized => Diagnostic {
                error_type: "Unauthorized".to_owned(),
                error_message: "Unauthorized".to_owned(),
            },
            Failure::Error(refusal) => Diagnostic {
                error_type: refusal.reason.code().to_owned(),
                error_message: refusal.to_string(),
            },
        }
    }
}
