//! A configuration mistake: one line naming the variable or document member at fault.

/// A configuration mistake, reported at init as one line naming the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The variable (or document path) at fault.
    pub variable: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(variable: &str, message: impl Into<String>) -> Self {
        ConfigError {
            variable: variable.to_owned(),
            message: message.into(),
        }
    }
}
