//! `CloudWatch` metrics as Embedded Metric Format (EMF) lines on standard output: Lambda
//! sends them to `CloudWatch` Logs, which turns them into metrics. No SDK, no network call,
//! nothing awaited: one formatted line per decision and per key fetch.
//!
//! | metric | unit | dimensions | when |
//! |---|---|---|---|
//! | `Decisions` | Count | `Function`+`Outcome`, `Function`+`Reason` | every decision |
//! | `Latency` | Microseconds | `Function` | every decision |
//! | `StaleKeysServed` | Count | `Function` | a token verified with keys past their TTL or from a snapshot |
//! | `CooldownRejections` | Count | `Function` | an unknown `kid` not refetched because of the cool-down |
//! | `KeyFetches`, `KeyFetchFailures` | Count | `Function` | every key-set fetch attempt |
//! | `KeyFetchLatency` | Milliseconds | `Function` | every key-set fetch attempt |
//! | `OpaqueLookups`, `OpaqueCacheHits` | Count | `Function` | an opaque token checked with the identity provider, or answered from the cache |
//!
//! `METRICS=off` turns them off; `METRICS_NAMESPACE` names the namespace
//! (`TokenVerifier`). Like logging, the sink is process-wide and set once in `main`;
//! without [`init`] (tests, the CLI) nothing is written.

use std::fmt::Write as _;
use std::sync::OnceLock;

use crate::settings::metrics::MetricsSettings;

static SINK: OnceLock<MetricsSettings> = OnceLock::new();

/// Starts writing metrics (when enabled). Call once, in `main`, after logging.
///
/// Lambda's log-level filter treats a line without a `level` as INFO, so metric lines
/// are dropped when the function's application log level (`AWS_LAMBDA_LOG_LEVEL`) is
/// WARN or above: that is said once, as a warning, rather than losing metrics silently.
pub fn init(settings: &MetricsSettings, lambda_log_level: Option<&str>) {
    if !settings.enabled {
        return;
    }
    let _ = SINK.set(settings.clone());
    if let Some(level) = lambda_log_level.filter(|l| drops_info(l)) {
        tracing::warn!(
            level,
            "metrics are on (METRICS=emf) but Lambda's application log level {level} drops their lines (Lambda treats them as INFO): set ApplicationLogLevel to INFO, or METRICS=off"
        );
    }
}

/// Whether Lambda's application log level filters out INFO lines.
#[must_use]
pub(crate) fn drops_info(level: &str) -> bool {
    matches!(
        level.to_ascii_uppercase().as_str(),
        "WARN" | "ERROR" | "FATAL"
    )
}

/// What one decision contributes to the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionMetrics<'a> {
    /// `allow`, `unauthorized`, `deny` or `error`.
    pub outcome: &'a str,
    /// The reason code, `ok` when allowed.
    pub reason: &'a str,
    /// Time spent deciding.
    pub latency_us: u64,
    /// The token was verified with keys past their TTL or from a snapshot
    /// (`StaleKeysServed`).
    pub stale_keys: bool,
    /// Whether an unknown `kid` was refused without a refetch because of the cool-down.
    pub cooled_down: bool,
    /// An opaque token answered from the cache or by asking the identity provider; `None`
    /// when neither (no opaque metric).
    pub opaque: Option<OpaqueMetric>,
}

/// How an opaque token was validated, as the metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpaqueMetric {
    /// Answered from the cache (`OpaqueCacheHits`).
    CacheHit,
    /// The identity provider was asked (`OpaqueLookups`).
    Lookup,
}

/// Writes the metrics of one decision.
pub(crate) fn decision(metrics: &DecisionMetrics<'_>) {
    if let Some(settings) = SINK.get() {
        super::log::write_line(decision_line(settings, metrics, now_ms()).as_bytes());
    }
}

/// Writes the metrics of one key-set fetch attempt.
pub(crate) fn key_fetch(trigger: &str, ok: bool, elapsed_ms: u128) {
    if let Some(settings) = SINK.get() {
        super::log::write_line(
            key_fetch_line(settings, trigger, ok, elapsed_ms, now_ms()).as_bytes(),
        );
    }
}

/// The EMF document of one decision. Pure: the time is passed in.
#[must_use]
pub fn decision_line(
    settings: &MetricsSettings,
    metrics: &DecisionMetrics<'_>,
    timestamp_ms: u128,
) -> String {
    let stale = metrics.stale_keys;
    let mut per_function = String::from(r#"{"Name":"Latency","Unit":"Microseconds"}"#);
    if stale {
        per_function.push_str(r#",{"Name":"StaleKeysServed","Unit":"Count"}"#);
    }
    if metrics.cooled_down {
        per_function.push_str(r#",{"Name":"CooldownRejections","Unit":"Count"}"#);
    }
    let opaque_metric = metrics.opaque.map(|opaque| match opaque {
        OpaqueMetric::CacheHit => "OpaqueCacheHits",
        OpaqueMetric::Lookup => "OpaqueLookups",
    });
    if let Some(name) = opaque_metric {
        let _ = write!(per_function, r#",{{"Name":"{name}","Unit":"Count"}}"#);
    }
    let mut line = format!(
        r#"{{"_aws":{{"Timestamp":{timestamp_ms},"CloudWatchMetrics":[{{"Namespace":{ns},"Dimensions":[["Function","Outcome"],["Function","Reason"]],"Metrics":[{{"Name":"Decisions","Unit":"Count"}}]}},{{"Namespace":{ns},"Dimensions":[["Function"]],"Metrics":[{per_function}]}}]}},"Function":{function},"Outcome":{outcome},"Reason":{reason},"Decisions":1,"Latency":{latency}"#,
        ns = json_string(&settings.namespace),
        function = json_string(&settings.function),
        outcome = json_string(metrics.outcome),
        reason = json_string(metrics.reason),
        latency = metrics.latency_us,
    );
    if stale {
        line.push_str(r#","StaleKeysServed":1"#);
    }
    if metrics.cooled_down {
        line.push_str(r#","CooldownRejections":1"#);
    }
    if let Some(name) = opaque_metric {
        let _ = write!(line, r#","{name}":1"#);
    }
    line.push_str("}\n");
    line
}

/// The EMF document of one key-set fetch attempt. Pure: the time is passed in.
#[must_use]
pub(crate) fn key_fetch_line(
    settings: &MetricsSettings,
    trigger: &str,
    ok: bool,
    elapsed_ms: u128,
    timestamp_ms: u128,
) -> String {
    let mut line = String::with_capacity(400);
    let _ = write!(
        line,
        r#"{{"_aws":{{"Timestamp":{timestamp_ms},"CloudWatchMetrics":[{{"Namespace":{ns},"Dimensions":[["Function"]],"Metrics":[{{"Name":"KeyFetches","Unit":"Count"}},{{"Name":"KeyFetchFailures","Unit":"Count"}},{{"Name":"KeyFetchLatency","Unit":"Milliseconds"}}]}}]}},"Function":{function},"Trigger":{trigger},"KeyFetches":1,"KeyFetchFailures":{failures},"KeyFetchLatency":{elapsed_ms}}}"#,
        ns = json_string(&settings.namespace),
        function = json_string(&settings.function),
        trigger = json_string(trigger),
        failures = u8::from(!ok),
    );
    line.push('\n');
    line
}

fn json_string(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "\"\"".to_owned())
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn settings() -> MetricsSettings {
        MetricsSettings {
            enabled: true,
            namespace: "TokenVerifier".into(),
            function: "authorizer-fn".into(),
        }
    }

    fn parsed(line: &str) -> Value {
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        serde_json::from_str(line).unwrap()
    }

    /// What `CloudWatch` requires of an EMF document: every metric named in a directive
    /// and every dimension is a member of the root, metrics are numbers, dimensions strings.
    fn assert_valid_emf(doc: &Value) {
        let aws = &doc["_aws"];
        assert!(aws["Timestamp"].is_u64());
        for directive in aws["CloudWatchMetrics"].as_array().unwrap() {
            assert!(directive["Namespace"].is_string());
            for set in directive["Dimensions"].as_array().unwrap() {
                for dimension in set.as_array().unwrap() {
                    assert!(doc[dimension.as_str().unwrap()].is_string(), "{dimension}");
                }
            }
            for metric in directive["Metrics"].as_array().unwrap() {
                assert!(
                    doc[metric["Name"].as_str().unwrap()].is_number(),
                    "{metric}"
                );
            }
        }
    }

    #[test]
    fn a_decision_counts_by_outcome_and_by_reason() {
        let line = decision_line(
            &settings(),
            &DecisionMetrics {
                outcome: "unauthorized",
                reason: "wrong_audience",
                latency_us: 31,
                stale_keys: false,
                cooled_down: false,
                opaque: None,
            },
            1_800_000_000_000,
        );
        let doc = parsed(&line);
        assert_valid_emf(&doc);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function", "Outcome"], ["Function", "Reason"]])
        );
        assert_eq!(doc["Outcome"], "unauthorized");
        assert_eq!(doc["Reason"], "wrong_audience");
        assert_eq!(doc["Decisions"], 1);
        assert_eq!(doc["Latency"], 31);
        assert_eq!(doc["Function"], "authorizer-fn");
        assert!(doc.get("StaleKeysServed").is_none());
    }

    /// The EMF document of an allowed decision, changed by `change`, checked valid.
    fn allow_with(change: impl FnOnce(&mut DecisionMetrics<'static>)) -> Value {
        let mut metrics = DecisionMetrics {
            outcome: "allow",
            reason: "ok",
            latency_us: 5,
            stale_keys: false,
            cooled_down: false,
            opaque: None,
        };
        change(&mut metrics);
        let doc = parsed(&decision_line(&settings(), &metrics, 0));
        assert_valid_emf(&doc);
        doc
    }

    #[test]
    fn stale_keys_and_cool_down_rejections_are_counted_when_they_happen() {
        let doc = allow_with(|m| m.stale_keys = true);
        assert_eq!(doc["StaleKeysServed"], 1);
        let doc = allow_with(|m| {
            m.outcome = "unauthorized";
            m.reason = "unknown_kid";
            m.cooled_down = true;
        });
        assert_eq!(doc["CooldownRejections"], 1);
        for (lookup, metric) in [
            (Some(OpaqueMetric::CacheHit), Some("OpaqueCacheHits")),
            (Some(OpaqueMetric::Lookup), Some("OpaqueLookups")),
            (None, None),
        ] {
            let doc = allow_with(|m| m.opaque = lookup);
            for name in ["OpaqueCacheHits", "OpaqueLookups"] {
                let expected = if Some(name) == metric {
                    json!(1)
                } else {
                    Value::Null
                };
                assert_eq!(doc[name], expected, "{lookup:?}");
            }
        }
    }

    #[test]
    fn a_key_fetch_counts_attempts_failures_and_latency() {
        let doc = parsed(&key_fetch_line(&settings(), "init", false, 812, 0));
        assert_valid_emf(&doc);
        assert_eq!(doc["KeyFetches"], 1);
        assert_eq!(doc["KeyFetchFailures"], 1);
        assert_eq!(doc["KeyFetchLatency"], 812);
        assert_eq!(doc["Trigger"], "init");
    }

    #[test]
    fn log_levels_that_drop_metric_lines_are_known() {
        for level in ["WARN", "error", "FATAL"] {
            assert!(drops_info(level));
        }
        for level in ["INFO", "debug", "TRACE", ""] {
            assert!(!drops_info(level));
        }
    }

    #[test]
    fn values_with_quotes_cannot_break_the_document() {
        let odd = MetricsSettings {
            function: "fn\"with\\quotes".into(),
            ..settings()
        };
        assert_valid_emf(&parsed(&key_fetch_line(&odd, "ttl", true, 1, 0)));
    }
}
