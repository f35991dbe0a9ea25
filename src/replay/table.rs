//! The replay table shared by every execution environment (`DPOP_REPLAY_TABLE`): one
//! conditional `PutItem` per proof, which succeeds only for a key not yet in the table
//! (or whose window has closed), so two environments cannot both accept one proof.
//!
//! The table: partition key `pk` (a string), DynamoDB TTL on `expires_at` (epoch
//! seconds), so it empties itself; `template.yaml` defines it and grants only
//! `dynamodb:PutItem` on it. The client is `aws-sdk-dynamodb` with the same lean features
//! as the SSM client; it honours `AWS_ENDPOINT_URL_DYNAMODB` (moto in the tests).

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::sync::OnceCell;

use crate::http::client::error_chain;
use crate::token::UnixTime;

/// The longest one claim may take, its retries included: a proof's check waits this long
/// at most for a table that does not answer, then fails closed.
pub(crate) const CLAIM_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

/// One DynamoDB table of used proofs.
#[derive(Debug)]
pub(crate) struct Table {
    name: String,
    client: OnceCell<aws_sdk_dynamodb::Client>,
}

impl Table {
    /// The table `name`; its client is built on first use, or by `prepare` at init.
    pub(crate) fn new(name: String) -> Self {
        Table {
            name,
            client: OnceCell::new(),
        }
    }

    /// Its name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The client, built once from the environment (region, credentials, endpoint).
    pub(crate) async fn client(&self) -> &aws_sdk_dynamodb::Client {
        self.client
            .get_or_init(|| async {
                let config = crate::ssm::sdk_config(
                    std::time::Duration::from_millis(500),
                    std::time::Duration::from_millis(600),
                    CLAIM_TIMEOUT,
                )
                .await;
                aws_sdk_dynamodb::Client::new(&config)
            })
            .await
    }

    /// Writes `key` as used until `until`. `Ok(false)`: the table already holds it, in
    /// its window. The write names this attempt (`claimed_by`), so the SDK's retry of a
    /// write that succeeded but whose answer was lost is not taken for a replay.
    ///
    /// # Errors
    /// The SDK's error chain when the table cannot be asked.
    pub(crate) async fn claim(
        &self,
        key: [u8; 16],
        until: UnixTime,
        now: UnixTime,
    ) -> Result<bool, String> {
        let mut attempt = [0u8; 12];
        aws_lc_rs::rand::fill(&mut attempt).map_err(|_| "no randomness".to_owned())?;
        #[allow(clippy::cast_possible_truncation)]
        let (until, now) = (until.ceil() as i64, now.floor() as i64);
        let result = self
            .client()
            .await
            .put_item()
            .table_name(&self.name)
            .item("pk", AttributeValue::S(URL_SAFE_NO_PAD.encode(key)))
            .item("expires_at", AttributeValue::N(until.to_string()))
            .item(
                "claimed_by",
                AttributeValue::S(URL_SAFE_NO_PAD.encode(attempt)),
            )
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now OR claimed_by = :attempt",
            )
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(
                ":attempt",
                AttributeValue::S(URL_SAFE_NO_PAD.encode(attempt)),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(aws_sdk_dynamodb::operation::put_item::PutItemError::is_conditional_check_failed_exception) =>
            {
                Ok(false)
            }
            Err(error) => Err(error_chain(&error)),
        }
    }
}
