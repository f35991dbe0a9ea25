//! Why the function cannot start: a configuration mistake, or an HTTP client that cannot
//! be built. (A request that is refused is not an error of this kind: see
//! [`crate::gateway::Failure`].)

use crate::config::ConfigError;

/// The function cannot start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A configuration mistake.
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}
