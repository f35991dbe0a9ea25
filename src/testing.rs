//! Internals the crate's own tests, benches and fuzz targets reach into: **not part of the
//! API**, no promise of stability. Everything a user of the library needs is re-exported
//! at the crate root (and in [`crate::settings`] and [`crate::gateway`]).
#![doc(hidden)]

pub use crate::authorizer::record::fingerprint;
pub use crate::authorizer::reload::RELOAD_TIMEOUT;
pub use crate::config::variables::VARIABLES;
#[cfg(feature = "cedar")]
pub use crate::decision::cedar::actions::iam_allows;
pub use crate::gateway::answer::resource;
pub use crate::gateway::context::{RESERVED_KEYS, flat, native};
pub use crate::gateway::credential::bearer;
pub use crate::gateway::event::{Request, Shape};
pub use crate::http::client::FetchError;
pub use crate::json::value::parse_object;
pub use crate::keys::cache::KeyCache;
pub use crate::keys::jwk::{KeySet, Selection, VerificationKey};
pub use crate::keys::snapshot::snapshot_name;
pub use crate::keys::source::JwksSource;
pub use crate::refusal::sanitize;
pub use crate::replay::memory::{Memory as ReplayMemory, Seen};
pub use crate::telemetry::log::{Lines, filter_for, subscriber};
pub use crate::telemetry::metrics::{DecisionMetrics, OpaqueMetric, decision_line};
pub use crate::token::jws::parse;
pub use crate::verify::dpop::{access_token_hash, normalise_url};

/// A DPoP proof judged alone (`verify::dpop::verify`): `Ok` with its key's thumbprint.
///
/// # Errors
/// The proof's refusal.
#[allow(clippy::too_many_arguments)]
pub fn verify_proof(
    proof: &str,
    method: &str,
    url: &str,
    token: &str,
    jkt: &str,
    settings: &crate::settings::DpopSettings,
    leeway: u64,
    now: f64,
) -> Result<String, crate::Refusal> {
    let request = crate::verify::dpop::ProofRequest { method, url };
    let keys = crate::verify::dpop::ProofKeys::default();
    crate::verify::dpop::verify(proof, request, token, jkt, settings, &keys, leeway, now)
        .map(|p| p.jkt)
}
pub use crate::verify::opaque::{FAILURE_BACKOFF, MAX_TOKEN_CHARS};
pub use crate::verify::verifier::{Issuer, Verifier};

/// The JSON scanner, skimmer and writer (`tests/json_scanner.rs`, the ceiling bench).
pub mod json {
    pub use crate::json::scan::{items, object_members, scan};
    pub use crate::json::skim::{skim_items, skim_members};
    pub use crate::json::{Kind, Member, Str, number, quote_or_backslash};
}
