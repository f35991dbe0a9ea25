//! Structured JSON logs, one object per line, as `CloudWatch` Logs Insights queries them.
//!
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's advanced logging
//! controls) or `RUST_LOG`, default `info`. Whatever the level, dependencies are capped
//! at `info`: `lambda_runtime` prints each raw event (and so the bearer token) at
//! `trace`, and that must never reach the logs. The runtime's own error line for every
//! handler error is switched off: each refusal already has its decision line, and a
//! 401 is not an error. Panics are logged by the hook [`init`] installs instead.

use tracing_subscriber::EnvFilter;

/// The filter for a requested level: that level for this crate and its decision lines,
/// at most `info` for every dependency.
#[must_use]
pub fn filter_for(requested: Option<&str>) -> String {
    let level = match requested.map(str::to_ascii_lowercase).as_deref() {
        Some("trace") => "trace",
        Some("debug") => "debug",
        Some("warn") => "warn",
        Some("error" | "fatal") => "error",
        _ => "info",
    };
    let deps = if matches!(level, "warn" | "error") {
        level
    } else {
        "info"
    };
    format!("{deps},lambda_runtime::layers::panic=off,token_verifier={level},decision={level}")
}

/// Installs the JSON subscriber. Call once, first thing in `main`.
pub fn init() {
    let requested = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::new(filter_for(requested.as_deref())))
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(true)
        .with_ansi(false)
        .with_writer(std::io::stdout)
        .init();
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .map(|m| crate::refusal::sanitize(&m, 200));
        tracing::error!(
            location,
            message,
            "panic: a bug in token-verifier; the request fails closed"
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_never_log_below_info() {
        assert_eq!(
            filter_for(None),
            "info,lambda_runtime::layers::panic=off,token_verifier=info,decision=info"
        );
        assert_eq!(
            filter_for(Some("TRACE")),
            "info,lambda_runtime::layers::panic=off,token_verifier=trace,decision=trace"
        );
        assert_eq!(
            filter_for(Some("warn")),
            "warn,lambda_runtime::layers::panic=off,token_verifier=warn,decision=warn"
        );
        assert_eq!(
            filter_for(Some("lambda_runtime=trace")),
            "info,lambda_runtime::layers::panic=off,token_verifier=info,decision=info"
        );
    }
}
