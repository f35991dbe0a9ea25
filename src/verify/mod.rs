//! Token → verified claims, or a [`Refusal`](crate::Refusal) with a stable code.
//!
//! [`Verifier::verify`] routes a token to its issuer by `iss`, checks its header and
//! signature ([`header`]) and its claims ([`checks`]), or, for an opaque token of the issuer
//! configured for them, asks the identity provider ([`opaque`]); it fills the log line's
//! [`TokenFacts`] as it goes.

pub(crate) mod advice;
pub(crate) mod binding;
pub(crate) mod checks;
pub(crate) mod dpop;
pub(crate) mod facts;
pub(crate) mod header;
pub(crate) mod opaque;
pub(crate) mod verifier;

pub(crate) use facts::TokenFacts;
pub(crate) use opaque::{Lookup, OpaqueValidator, Secret};
pub(crate) use verifier::{Issuer, Opaque, Verified, Verifier};
