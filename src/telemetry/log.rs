//! Structured JSON logs, one object per line, as `CloudWatch` Logs Insights queries them.
//!
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's advanced logging
//! controls) or `RUST_LOG`, default `info`. Whatever the level, dependencies are capped
//! at `info`: `lambda_runtime` prints each raw event (and so the bearer token) at
//! `trace`, and that must never reach the logs. The runtime's own error line for every
//! handler error is switched off: each refusal already has its decision line, and a
//! 401 is not an error. Panics are logged by the hook [`init`] installs instead. The
//! runtime's span per invocation (`Lambda runtime invoke`, with the request id) is off
//! too: no line prints span data, and opening, entering and closing it cost about 2 µs
//! of each warm invocation in place (BENCHMARKS.md, "In place").
//!
//! Lines are written by [`LambdaJson`], not `tracing-subscriber`'s JSON format: the same
//! object (`timestamp`, `level`, the event's fields in order, `target`), put together in
//! a buffer of its own with plain pushes (writing each piece through tracing-subscriber's
//! `Writer`, a `dyn fmt::Write`, cost ~7 dynamic calls per field). Every request logs a
//! decision line: the
//! generic formatter spent 2.0 µs on it (serde through an `io::Write` adapter that
//! re-checks UTF-8 on every chunk), this one 0.6–0.7 µs (`handler_logged` −
//! `handler`, BENCHMARKS.md).

use std::cell::{Cell, RefCell};
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

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
    format!(
        "{deps},lambda_runtime::layers::panic=off,lambda_runtime::layers::trace=off,token_verifier={level},decision={level}"
    )
}

/// Installs the JSON subscriber. Call once, first thing in `main`.
pub fn init() {
    let requested = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok();
    subscriber(EnvFilter::new(filter_for(requested.as_deref())), Stdout).init();
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

/// Standard output, where Lambda collects each line as a log record. While a [`Batch`] is
/// open on the thread, lines are gathered and written together when it closes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stdout;

impl<'w> MakeWriter<'w> for Stdout {
    type Writer = Stdout;
    fn make_writer(&'w self) -> Stdout {
        Stdout
    }
}

impl std::io::Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        write_line(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

thread_local! {
    static BATCHING: Cell<bool> = const { Cell::new(false) };
    static BATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Writes whole lines to standard output: into the thread's open [`Batch`], or at once,
/// in one write (so a line never interleaves with another thread's).
pub(crate) fn write_line(line: &[u8]) {
    if BATCHING.get() {
        BATCH.with_borrow_mut(|batch| batch.extend_from_slice(line));
    } else {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line);
        let _ = out.flush();
    }
}

/// The lines of one decision (the log line, the metric line) gathered and written to
/// standard output in one write when dropped: one system call per request instead of
/// two (about 1 µs each to a pipe on the reference machine). Lambda still reads them as
/// separate records, one per line. Open it only around code that does not await, so no
/// other task's lines join the batch: it is not `Send`, so holding it across an
/// `.await` on the multi-thread runtime does not compile. Nested batches write once, when
/// the outermost closes.
#[derive(Debug)]
#[must_use = "the lines are written when the batch is dropped"]
pub(crate) struct Batch {
    nested: bool,
    not_send: std::marker::PhantomData<*const ()>,
}

impl Batch {
    /// Starts gathering this thread's lines.
    pub(crate) fn open() -> Batch {
        Batch {
            nested: BATCHING.replace(true),
            not_send: std::marker::PhantomData,
        }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        if self.nested {
            return;
        }
        BATCHING.set(false);
        BATCH.with_borrow_mut(|batch| {
            if !batch.is_empty() {
                write_line(batch);
                batch.clear();
            }
        });
    }
}

/// The subscriber `main` installs: `LambdaJson` lines to `writer`, filtered by `filter`.
pub fn subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .event_format(LambdaJson)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}

/// One JSON object per event, as Lambda's JSON log format and `CloudWatch` Logs Insights
/// read it: `{"timestamp":"2026-11-22T21:49:37.123456Z","level":"INFO",<the event's
/// fields, message included, in order>,"target":"decision"}`. No span data (the
/// authorizer opens none).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LambdaJson;

impl<S, N> FormatEvent<S, N> for LambdaJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // The line is put together in a buffer of its own (each piece a plain push, not a
        // call through the writer's `dyn fmt::Write`), then handed to the writer at once.
        LINE.with(|buffer| {
            if let Ok(mut line) = buffer.try_borrow_mut() {
                line.clear();
                format_line(&mut line, event)?;
                writer.write_str(&line)
            } else {
                // Not expected: tracing does not call a subscriber again from inside its
                // own callback. A fresh buffer rather than a panic if it ever does.
                let mut line = String::new();
                format_line(&mut line, event)?;
                writer.write_str(&line)
            }
        })
    }
}

thread_local! {
    /// The line being put together, reused from line to line.
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// One event as a JSON line into `line`.
fn format_line(line: &mut String, event: &Event<'_>) -> fmt::Result {
    let meta = event.metadata();
    line.push_str("{\"timestamp\":\"");
    SystemTime.format_time(&mut Writer::new(line))?;
    line.push_str("\",\"level\":\"");
    line.push_str(meta.level().as_str());
    line.push('"');
    let mut fields = JsonFields {
        out: &mut *line,
        result: Ok(()),
    };
    event.record(&mut fields);
    fields.result?;
    line.push_str(",\"target\":");
    write_json_str(line, meta.target())?;
    line.push_str("}\n");
    Ok(())
}

/// Writes each field as `,"name":value`; the first error stops the writing.
struct JsonFields<'a, W: fmt::Write> {
    out: &'a mut W,
    result: fmt::Result,
}

impl<W: fmt::Write> JsonFields<'_, W> {
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut W) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self
                .out
                .write_char(',')
                .and_then(|()| write_json_str(self.out, field.name()))
                .and_then(|()| self.out.write_char(':'))
                .and_then(|()| value(self.out));
        }
    }
}

impl<W: fmt::Write> Visit for JsonFields<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, |out| write_json_str(out, value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |out| {
            out.write_str(if value { "true" } else { "false" })
        });
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |out| write!(out, "{value}"));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |out| write!(out, "{value}"));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        // As serde_json writes numbers (shortest round-trip form, `1.0`, `1e300`); JSON
        // has no NaN or infinity.
        self.field(field, |out| match serde_json::Number::from_f64(value) {
            Some(number) => write!(out, "{number}"),
            None => out.write_str("null"),
        });
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, |out| {
            out.write_char('"')?;
            write!(Escaped(out), "{value:?}")?;
            out.write_char('"')
        });
    }
}

/// `value` as a JSON string, quotes included.
fn write_json_str(out: &mut impl fmt::Write, value: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaped(out).write_str(value)?;
    out.write_char('"')
}

/// Escapes what it is given for the inside of a JSON string (RFC 8259 §7): quotation
/// mark, reverse solidus and control characters; everything else passes in runs.
struct Escaped<'a, W: fmt::Write>(&'a mut W);

impl<W: fmt::Write> fmt::Write for Escaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Most values need no escape: one pass the compiler vectorises says so.
        if s.bytes().fold(0u8, |seen, b| {
            seen | u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\')
        }) == 0
        {
            return self.0.write_str(s);
        }
        let mut start = 0;
        for (at, byte) in s.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0x00..=0x1f => "",
                _ => continue,
            };
            self.0.write_str(&s[start..at])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            start = at + 1;
        }
        self.0.write_str(&s[start..])
    }
}

/// Keeps a second dispatcher registered for the rest of the process. tracing decides once,
/// process-wide, whether a call site is wanted; while a single dispatcher is registered it
/// asks only the default of the thread that first reaches the call site, so a test thread
/// without a subscriber could switch a call site off for good while another test captures
/// it (a captured test then saw no lines, now and then, beside its siblings). With this
/// one registered too (wanting every call site, deciding per event: it enables none),
/// every call site is asked of every registered dispatcher, the capturing ones included.
fn anchor() {
    static ANCHOR: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    ANCHOR.get_or_init(|| tracing::Dispatch::new(Anchor));
}

/// [`anchor`]'s dispatcher: wants every call site, enables no event or span.
struct Anchor;

impl Subscriber for Anchor {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Log lines written to memory, for reading back: the tests' writer (here, in the
/// authorizer's tests and through `testing::Lines` in the integration tests).
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<u8>>>);

impl Lines {
    /// What `f` returns, and the lines it logged through the function's own subscriber at
    /// the default level (`info`).
    pub fn capture<T>(f: impl FnOnce() -> T) -> (T, Lines) {
        let lines = Lines::default();
        let guard = lines.install();
        let out = f();
        drop(guard);
        (out, lines)
    }

    /// Makes the function's own subscriber at the default level (`info`), writing here,
    /// this thread's until the guard drops (threads it hands its dispatcher to write here
    /// too). Safe beside tests running on other threads: see [`anchor`].
    #[must_use]
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        anchor();
        let filter = EnvFilter::new(filter_for(None));
        tracing::subscriber::set_default(subscriber(filter, self.clone()))
    }

    /// Everything written, as text.
    #[must_use]
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Each line as the JSON object it must be (a line that is not one panics).
    #[must_use]
    pub fn parsed(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"))
            })
            .collect()
    }
}

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> MakeWriter<'w> for Lines {
    type Writer = Lines;
    fn make_writer(&'w self) -> Lines {
        self.clone()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every kind of field the authorizer logs, with the characters that need escaping.
    pub(crate) fn log_everything() {
        let hostile = "quote \" backslash \\ newline \n tab \t nul \0 bell \u{7} é 日本 \u{2028}";
        let error = std::io::Error::other("connect \"refused\"");
        tracing::info!(target: "decision", outcome = "allow", latency_us = 17_u64, delta = -3_i64, ratio = 0.75, one = 1.0, negative_zero = -0.0, huge = 1e300, tiny = 5e-324, nan = f64::NAN, infinite = f64::INFINITY, big = u128::MAX, small = i128::MIN, cached = true, hostile, shown = %hostile, debugged = ?hostile, error = &error as &dyn std::error::Error, "decision");
        tracing::warn!(count = 2, "key set fetched: {} keys, {hostile}", 4);
        tracing::error!("panic: \"{hostile}\" \u{8}\u{c}\r\u{1f}");
    }

    #[test]
    fn fields_keep_the_events_order_message_first_and_the_target_comes_last() {
        let lines = Lines::default();
        tracing::subscriber::with_default(
            subscriber(EnvFilter::new("info"), lines.clone()),
            || tracing::info!(target: "decision", outcome = "deny", reason = "expired", "decision"),
        );
        let text = lines.text();
        let rest = text.split_once(r#""level":"INFO","#).unwrap().1;
        assert_eq!(
            rest,
            "\"message\":\"decision\",\"outcome\":\"deny\",\"reason\":\"expired\",\"target\":\"decision\"}\n"
        );
    }

    proptest! {
        #[test]
        fn escaped_strings_read_back_as_themselves(
            chars in proptest::collection::vec(
                prop_oneof![any::<char>(), (0u8..0x20).prop_map(char::from)],
                0..64,
            )
        ) {
            // Control characters mixed in: `any::<char>()` alone almost never draws one.
            let s: String = chars.into_iter().collect();
            let mut out = String::new();
            write_json_str(&mut out, &s).unwrap();
            prop_assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s.clone());
            // What serde_json writes, byte for byte.
            prop_assert_eq!(&out, &serde_json::to_string(&s).unwrap());
            // One line per event: no raw control character, so no line break.
            prop_assert!(!out.bytes().any(|b| b < 0x20));
        }
    }

    #[test]
    fn dependencies_never_log_below_info() {
        assert_eq!(
            filter_for(None),
            "info,lambda_runtime::layers::panic=off,lambda_runtime::layers::trace=off,token_verifier=info,decision=info"
        );
        assert_eq!(
            filter_for(Some("TRACE")),
            "info,lambda_runtime::layers::panic=off,lambda_runtime::layers::trace=off,token_verifier=trace,decision=trace"
        );
        assert_eq!(
            filter_for(Some("warn")),
            "warn,lambda_runtime::layers::panic=off,lambda_runtime::layers::trace=off,token_verifier=warn,decision=warn"
        );
        assert_eq!(
            filter_for(Some("lambda_runtime=trace")),
            "info,lambda_runtime::layers::panic=off,lambda_runtime::layers::trace=off,token_verifier=info,decision=info"
        );
    }

    #[test]
    fn a_batch_gathers_the_lines_of_one_decision_and_closes() {
        let batch = Batch::open();
        write_line(b"{\"decision\":1}\n");
        drop(Batch::open()); // a nested batch leaves the lines to the outer one
        write_line(b"{\"_aws\":2}\n");
        assert_eq!(
            BATCH.with_borrow(Clone::clone),
            b"{\"decision\":1}\n{\"_aws\":2}\n".to_vec(),
            "both lines wait for one write"
        );
        // (Not written here: the test would print them.)
        BATCH.with_borrow_mut(Vec::clear);
        drop(batch);
        assert!(!BATCHING.get(), "lines after the batch are written at once");
        assert!(BATCH.with_borrow(Vec::is_empty));
    }
}
