//! The record of one decision and the one log line and metric line it becomes. Never the
//! token or its signature: only its fingerprint.

use crate::refusal::{Outcome, Refusal};
use crate::telemetry::metrics::DecisionMetrics;
use crate::verify::TokenFacts;

/// The record of one decision: what the log line says.
#[derive(Debug, Clone)]
pub struct DecisionRecord {
    /// The answer's kind.
    pub outcome: Outcome,
    /// Why, when not allowed.
    pub refusal: Option<Refusal>,
    /// What is known about the token (untrusted unless allowed).
    pub facts: TokenFacts,
    /// The principal, when verified.
    pub principal: Option<String>,
    /// First 16 bytes of SHA-256 of the token, hex: correlates log lines, reveals nothing.
    pub fingerprint: Option<String>,
    /// Claims left out of the context for size.
    pub omitted: Vec<String>,
    /// The event shape.
    pub shape: Option<&'static str>,
    /// What the Cedar policies decided, when they were asked.
    pub cedar: Option<PolicyTrace>,
}

/// What the Cedar policies decided for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyTrace {
    /// The action of the called route (`MyAPI::Action::"get /users"`).
    pub action: Option<String>,
    /// The policies that determined the decision (the permits', or the forbids' ids).
    pub determining: Vec<String>,
    /// Cedar's errors: policies that erred while evaluated, and were skipped.
    pub errors: Vec<String>,
    /// How far a policy answer reaches: `actions` (every action of the schema, for the
    /// token) or `route` (the called route alone); `None` without a policy answer.
    pub answer: Option<&'static str>,
}

/// SHA-256 of the token's last 96 bytes (all of it when shorter), first 16 bytes in hex.
#[must_use]
pub fn fingerprint(token: &str) -> String {
    // The last 96 bytes of a JWS are signature bytes, unique per token: hashing them
    // identifies the token as well as hashing all of it, at a tenth of the cost.
    let tail = &token.as_bytes()[token.len().saturating_sub(96)..];
    crate::digest::sha256_hex([tail], 16)
}

/// Writes the one structured line of a decision. Never the token or its signature.
pub(crate) fn log_decision(record: &DecisionRecord, latency_us: u64) {
    let reason = record.refusal.as_ref().map_or("ok", |r| r.reason.code());
    let hint = record.refusal.as_ref().map(Refusal::hint);
    let facts = &record.facts;
    let omitted = (!record.omitted.is_empty()).then(|| record.omitted.join(","));
    let cedar = record.cedar.as_ref();
    let cedar_action = cedar.and_then(|c| c.action.as_deref());
    let cedar_policies = cedar
        .filter(|c| !c.determining.is_empty())
        .map(|c| c.determining.join(","));
    let cedar_errors = cedar
        .filter(|c| !c.errors.is_empty())
        .map(|c| c.errors.join("; "));
    let cedar_answer = cedar.and_then(|c| c.answer);
    macro_rules! decision {
        ($level:ident) => {
            tracing::$level!(
                target: "decision",
                outcome = record.outcome.as_str(),
                reason,
                hint = hint.as_deref(),
                shape = record.shape,
                principal = record.principal.as_deref(),
                iss = facts.iss.as_deref(),
                aud = facts.aud.as_deref(),
                sub = facts.sub.as_deref(),
                kid = facts.kid.as_deref(),
                alg = facts.alg.as_deref(),
                typ = facts.typ.as_deref(),
                keys = facts.key_origin.map(|o| o.as_str()),
                opaque = facts.opaque,
                opaque_cache = facts.opaque_lookup.map(crate::verify::Lookup::as_str),
                token_fp = record.fingerprint.as_deref(),
                context_omitted = omitted.as_deref(),
                cedar_action,
                cedar_policies = cedar_policies.as_deref(),
                cedar_errors = cedar_errors.as_deref(),
                cedar_answer,
                latency_us,
                "decision"
            )
        };
    }
    if record.outcome == Outcome::Error {
        decision!(error);
    } else {
        decision!(info);
    }
}

impl DecisionRecord {
    /// The record of a decision just begun: unauthorized until something is known.
    pub(crate) fn new() -> Self {
        DecisionRecord {
            outcome: Outcome::Unauthorized,
            refusal: None,
            facts: TokenFacts::default(),
            principal: None,
            fingerprint: None,
            omitted: Vec::new(),
            shape: None,
            cedar: None,
        }
    }

    /// What this decision contributes to the metrics.
    #[must_use]
    pub fn metrics(&self, latency_us: u64) -> DecisionMetrics<'_> {
        DecisionMetrics {
            outcome: self.outcome.as_str(),
            reason: self.refusal.as_ref().map_or("ok", |r| r.reason.code()),
            latency_us,
            stale_keys: self
                .facts
                .key_origin
                .is_some_and(crate::keys::KeyOrigin::is_stale),
            cooled_down: self.facts.cooled_down,
            opaque: self
                .facts
                .opaque_lookup
                .and_then(crate::verify::Lookup::metric),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyOrigin;
    use crate::telemetry::metrics::OpaqueMetric;
    use crate::verify::Lookup;

    fn record(key_origin: Option<KeyOrigin>, opaque_lookup: Option<Lookup>) -> DecisionRecord {
        DecisionRecord {
            outcome: Outcome::Allow,
            refusal: None,
            facts: TokenFacts {
                key_origin,
                opaque_lookup,
                ..TokenFacts::default()
            },
            principal: None,
            fingerprint: None,
            omitted: Vec::new(),
            shape: None,
            cedar: None,
        }
    }

    /// Keys served past their TTL or from a snapshot count as `StaleKeysServed`; an opaque
    /// token as a cache hit or a lookup, or not at all when refused without either.
    #[test]
    fn a_decision_gives_its_metrics() {
        for origin in [KeyOrigin::Stale, KeyOrigin::Snapshot] {
            assert!(
                record(Some(origin), None).metrics(5).stale_keys,
                "{origin:?}"
            );
        }
        for origin in [
            KeyOrigin::Cached,
            KeyOrigin::Fetched,
            KeyOrigin::Refreshing,
            KeyOrigin::Fixed,
        ] {
            assert!(
                !record(Some(origin), None).metrics(5).stale_keys,
                "{origin:?}"
            );
        }
        for (lookup, metric) in [
            (Lookup::Cached, Some(OpaqueMetric::CacheHit)),
            (Lookup::Asked, Some(OpaqueMetric::Lookup)),
            (Lookup::NotAsked, None),
        ] {
            assert_eq!(
                record(None, Some(lookup)).metrics(5).opaque,
                metric,
                "{lookup:?}"
            );
        }
        let allowed = record(None, None);
        let metrics = allowed.metrics(17);
        assert_eq!(
            (metrics.outcome, metrics.reason, metrics.latency_us),
            ("allow", "ok", 17)
        );
    }
}
