//! Verified claims + the called route → may this caller pass? Pure functions over the
//! claims: the issuer's required scopes ([`scopes`]), then the route rules ([`routes`]).
//!
//! A token can only get here once it is valid, so the only refusals left are missing
//! permissions (`insufficient_scope`, `claim_mismatch`, `route_not_allowed`), answered
//! with an explicit Deny (HTTP 403).

#[cfg(feature = "cedar")]
pub(crate) mod cedar;
pub(crate) mod routes;
pub(crate) mod scopes;

pub(crate) use routes::CalledRoute;
pub(crate) use scopes::check_scopes;
