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

    /// The setting at fault, for Lambda's `errorType`: the environment variable
    /// (`AUDIENCE`), or the document member a document's error starts with
    /// (`issuers[1].audiences`); the source itself when no member is named
    /// (`CONFIG_PARAMETER`).
    #[must_use]
    pub fn setting(&self) -> &str {
        if let Some((path, _)) = self.message.split_once(": ")
            && is_member_path(path)
        {
            return path;
        }
        self.variable.split(' ').next().unwrap_or_default()
    }
}

/// `issuers[1].audiences`, `routes.rules[0].route`, `gateway.http_api_response`: what the
/// document's errors start with (and what no other message starts with).
fn is_member_path(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.[]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_at_fault_is_the_variable_or_the_document_member() {
        let at = |variable: &str, message: &str| {
            ConfigError::new(variable, message).setting().to_owned()
        };
        assert_eq!(
            at("AUDIENCE", "is required: your API identifier"),
            "AUDIENCE"
        );
        assert_eq!(
            at("ALLOWED_ALGORITHMS", "`HS256` is a symmetric algorithm"),
            "ALLOWED_ALGORITHMS"
        );
        assert_eq!(
            at(
                "CONFIG_PARAMETER /tv/config",
                "issuers[1].audiences: at least one audience is required"
            ),
            "issuers[1].audiences"
        );
        assert_eq!(
            at("CONFIG_PARAMETER /tv/config", "cannot be read: timeout"),
            "CONFIG_PARAMETER"
        );
        assert_eq!(
            at("INTROSPECTION_SECRET_PARAMETER /s", "no such parameter"),
            "INTROSPECTION_SECRET_PARAMETER"
        );
        assert_eq!(
            at("doc.json", "line 3, column 7: EOF while parsing an object"),
            "doc.json"
        );
    }
}
