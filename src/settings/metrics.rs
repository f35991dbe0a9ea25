//! Where `CloudWatch` metrics go: on or off, the namespace, the `Function` dimension.

/// Default for `METRICS_NAMESPACE`.
pub const DEFAULT_NAMESPACE: &str = "TokenVerifier";

/// Where metrics go, from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// `METRICS`: `emf` (default) or `off`.
    pub enabled: bool,
    /// `METRICS_NAMESPACE`.
    pub namespace: String,
    /// The `Function` dimension: `AWS_LAMBDA_FUNCTION_NAME` (set by Lambda).
    pub function: String,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            enabled: true,
            namespace: DEFAULT_NAMESPACE.to_owned(),
            function: "token-verifier".to_owned(),
        }
    }
}

/// Checks a namespace as `CloudWatch` does: 1–255 characters of letters, digits and
/// `. - _ / # :` or space, not starting with `AWS/`.
///
/// # Errors
/// What is wrong with it.
pub fn check_namespace(namespace: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c);
    if namespace.is_empty() || namespace.len() > 255 || !namespace.chars().all(allowed) {
        return Err("1 to 255 letters, digits, spaces or . - _ / # :".to_owned());
    }
    if namespace.starts_with("AWS/") {
        return Err("namespaces starting with AWS/ are reserved for AWS".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_checked_as_cloudwatch_does() {
        assert!(check_namespace("TokenVerifier").is_ok());
        assert!(check_namespace("Acme/Auth prod").is_ok());
        assert!(check_namespace("").is_err());
        assert!(check_namespace("AWS/Lambda").is_err());
        assert!(check_namespace("a\"b").is_err());
        assert!(check_namespace(&"x".repeat(256)).is_err());
    }
}
