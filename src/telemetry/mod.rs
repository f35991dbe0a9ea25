//! What the function tells `CloudWatch`: one JSON log line per event ([`log`]) and
//! Embedded Metric Format lines ([`metrics`]), both on standard output, both set up once
//! in `main`. Nothing here awaits or calls the network.

pub(crate) mod log;
pub(crate) mod metrics;
