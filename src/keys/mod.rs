//! An issuer's keys: a JWKS document turned into verification keys ([`jwk`]), fetched
//! from where the issuer publishes them ([`source`]), cached across warm invocations with
//! the refresh, stale and cool-down rules of [`cache`], and kept outside the process for
//! cold starts during an outage ([`snapshot`]).

pub(crate) mod cache;
pub(crate) mod jwk;
pub(crate) mod snapshot;
pub(crate) mod source;

pub(crate) use cache::{KeyCache, KeyError, KeyOrigin, Refetch};
pub(crate) use jwk::{KeySet, VerificationKey};
pub(crate) use snapshot::ParameterSnapshots;
pub(crate) use source::{JwksLocation, RemoteJwks};
