//! The Lambda authorizer front doors: API Gateway's and AppSync's authorizer events in,
//! the exact answer each shape wants out.
//!
//! `event` detects the shape ([`AuthorizerEvent`]) and takes the credential (`credential`)
//! and the route's ARN; after the decision, `answer` builds the policy or simple response
//! ([`Answer`]) with the verified claims as the authorizer context (`context`:
//! [`FlatContext`], [`NativeContext`]); `error` is the Lambda error shape of a refusal
//! ([`Failure`]: `Unauthorized` → 401, anything else → 500).

pub(crate) mod answer;
pub(crate) mod context;
pub(crate) mod credential;
mod error;
pub(crate) mod event;

pub use answer::{
    Answer, AppSyncAnswer, AppSyncEventsAnswer, Context, PolicyAnswer, PolicyDocument,
    SimpleAnswer, Statement,
};
pub use context::{FlatContext, NativeContext, Scalar};
pub use error::Failure;
pub use event::AuthorizerEvent;

pub(crate) use answer::Grant;
pub(crate) use event::Request;
