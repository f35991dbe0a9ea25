//! What the layer hands the service it protects: the verified token.

use serde::de::DeserializeOwned;

use crate::authorizer::call::Admitted;
use crate::token::{Claim, Claims, claim};

/// A verified access token, in the request's extensions once the layer let it through:
/// `request.extensions().get::<Verified>()`, or with the `axum` feature an extractor
/// (`async fn handler(caller: Verified)`; a handler behind no layer answers 500, as a
/// missing layer is a server mistake, never an open door).
#[derive(Clone, Debug)]
pub struct Verified {
    principal: String,
    issuer: String,
    scopes: Vec<String>,
    claims: Claims,
}

impl From<Admitted> for Verified {
    fn from(admitted: Admitted) -> Self {
        Verified {
            principal: admitted.principal,
            issuer: admitted.issuer,
            scopes: admitted.scopes,
            claims: admitted.claims,
        }
    }
}

impl Verified {
    /// The principal: the first present claim of `PRINCIPAL_CLAIMS` (`sub` by default).
    #[must_use]
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The issuer the token was verified against, as configured.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The scopes and permissions the token grants, from the issuer's scope claims
    /// (`scope`, `scp`, `permissions`, or the configured ones), in token order.
    #[must_use]
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Whether the token grants `scope` (a whole scope, never a substring).
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// A claim by name, or by JSON Pointer when `path` starts with `/`
    /// (`/realm_access/roles`, `/https:~1~1acme.example~1org/id`).
    #[must_use]
    pub fn claim(&self, path: &str) -> Option<Claim<'_>> {
        claim(&self.claims, path)
    }

    /// Every claim of the token.
    #[must_use]
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The claims deserialised into a type of the caller's own.
    ///
    /// # Errors
    /// When the claims do not fit `T` (a missing field, another type).
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(serde_json::Value::Object(self.claims.to_map()))
    }
}

#[cfg(feature = "axum")]
mod extractor {
    use ::http::request::Parts;
    use axum_core::extract::FromRequestParts;
    use axum_core::response::{IntoResponse, Response};

    use super::Verified;

    /// The rejection of the [`Verified`] extractor: the handler runs behind no
    /// [`VerifyLayer`](super::super::VerifyLayer) (a server mistake: 500, never an open door).
    #[derive(Debug, Clone, Copy)]
    pub struct NotVerified;

    impl IntoResponse for NotVerified {
        fn into_response(self) -> Response {
            (
                ::http::StatusCode::INTERNAL_SERVER_ERROR,
                "this handler needs token_verifier::layer::VerifyLayer in front of it",
            )
                .into_response()
        }
    }

    impl<S: Send + Sync> FromRequestParts<S> for Verified {
        type Rejection = NotVerified;

        async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, NotVerified> {
            parts
                .extensions
                .get::<Verified>()
                .cloned()
                .ok_or(NotVerified)
        }
    }
}

#[cfg(feature = "axum")]
pub use extractor::NotVerified;
