//! Why the function cannot start: a configuration mistake, or an HTTP client that cannot
//! be built — and telling Lambda so. (A request that is refused is not an error of this
//! kind: see [`crate::gateway::Failure`].)

use std::time::Duration;

use crate::config::ConfigError;
use crate::http::client::error_chain;

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

impl InitError {
    /// The class of the error, as Lambda's `errorType`: `Config.` and the setting at fault
    /// (`Config.AUDIENCE`, `Config.issuers[1].audiences`), or `Init.HttpClient`.
    #[must_use]
    pub fn error_type(&self) -> String {
        match self {
            InitError::Config(error) => format!("Config.{}", error.setting()),
            InitError::Http(_) => "Init.HttpClient".to_owned(),
        }
    }
}

/// How long telling Lambda may take: it waits for the end of init anyway.
const REPORT_TIMEOUT: Duration = Duration::from_secs(2);

/// Tells Lambda's Runtime API why the function cannot start (`POST
/// /2018-06-01/runtime/init/error`, the error's one line as `errorMessage`, its class as
/// `errorType`), so the console, the `Init` report and `aws lambda invoke` show why
/// instead of a bare `Runtime.ExitError`. Outside Lambda (no `AWS_LAMBDA_RUNTIME_API`)
/// nothing is sent; a report that fails is logged, and the function exits either way.
pub async fn report_init_error(error: &InitError) {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let error_type = error.error_type();
    let body = serde_json::json!({
        "errorMessage": error.to_string(),
        "errorType": error_type,
        "stackTrace": [],
    })
    .to_string();
    let sent = async {
        reqwest::Client::builder()
            .timeout(REPORT_TIMEOUT)
            .build()?
            .post(format!("http://{api}/2018-06-01/runtime/init/error"))
            .header("Lambda-Runtime-Function-Error-Type", &error_type)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?
            .error_for_status()
    };
    if let Err(failure) = sent.await {
        tracing::warn!(
            error = %error_chain(&failure.without_url()),
            "the init error could not be reported to the Lambda Runtime API"
        );
    }
}
