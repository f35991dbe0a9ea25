//! SSM Parameter Store: where the configuration document, introspection client secrets
//! and last-known-good key snapshots are read and written.
//!
//! The client is `aws-sdk-ssm` built by `aws-config` with only the features a Lambda
//! needs, on the same rustls/hyper stack reqwest uses. It honours `AWS_ENDPOINT_URL` and
//! `AWS_ENDPOINT_URL_SSM`, so any SSM-compatible endpoint (moto in the tests) works.

use aws_sdk_ssm::types::{ParameterTier, ParameterType};

use crate::http::BoxFuture;
use crate::http::client::error_chain;

/// The longest one SSM call may take, its retries included.
pub(crate) const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(4);

/// The AWS SDK's configuration from the environment (region, credentials, endpoint
/// overrides such as `AWS_ENDPOINT_URL_SSM`), every call bounded: `connect`, each
/// attempt, and the whole call with its retries. Shared by the SSM and DynamoDB clients.
pub(crate) async fn sdk_config(
    connect: std::time::Duration,
    attempt: std::time::Duration,
    call: std::time::Duration,
) -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(connect)
        .operation_attempt_timeout(attempt)
        .operation_timeout(call)
        .build();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await
}

/// One parameter's value and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// The (decrypted) value.
    pub value: String,
    /// SSM's version number: a changed document has a new one.
    pub version: i64,
}

/// A parameter store (SSM, or an in-memory fake in tests).
pub trait ParameterStore: Send + Sync {
    /// The parameter, `None` when it does not exist.
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Parameter>, String>>;
    /// Creates or overwrites a String parameter.
    fn put<'a>(&'a self, name: &'a str, value: String) -> BoxFuture<'a, Result<(), String>>;
}

/// SSM Parameter Store through `aws-sdk-ssm`.
#[derive(Debug, Clone)]
pub(crate) struct Ssm {
    client: aws_sdk_ssm::Client,
}

impl Ssm {
    /// Builds the client from the environment (region, credentials, endpoint overrides).
    /// Every call is bounded ([`CALL_TIMEOUT`], retries included), so an SSM that does not
    /// answer delays an init or a reload by seconds, never until the Lambda timeout.
    pub(crate) async fn from_env() -> Self {
        let config = sdk_config(
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(2),
            CALL_TIMEOUT,
        )
        .await;
        Ssm {
            client: aws_sdk_ssm::Client::new(&config),
        }
    }
}

impl ParameterStore for Ssm {
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Parameter>, String>> {
        Box::pin(async move {
            let result = self
                .client
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await;
            match result {
                Ok(output) => {
                    let parameter = output.parameter();
                    let value = parameter.and_then(|p| p.value()).unwrap_or_default();
                    Ok(Some(Parameter {
                        value: value.to_owned(),
                        version: parameter.map_or(0, aws_sdk_ssm::types::Parameter::version),
                    }))
                }
                Err(error) => {
                    if error
                        .as_service_error()
                        .is_some_and(aws_sdk_ssm::operation::get_parameter::GetParameterError::is_parameter_not_found)
                    {
                        Ok(None)
                    } else {
                        Err(format!("GetParameter {name}: {}", error_chain(&error)))
                    }
                }
            }
        })
    }

    fn put<'a>(&'a self, name: &'a str, value: String) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            // Standard parameters hold 4 KB; larger key sets need the advanced tier,
            // which Intelligent-Tiering picks only when needed.
            let tier = if value.len() > 4096 {
                ParameterTier::IntelligentTiering
            } else {
                ParameterTier::Standard
            };
            self.client
                .put_parameter()
                .name(name)
                .value(value)
                .r#type(ParameterType::String)
                .overwrite(true)
                .tier(tier)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("PutParameter {name}: {}", error_chain(&e)))
        })
    }
}
