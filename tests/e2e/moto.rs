//! A real SSM and DynamoDB API on loopback: `moto_server` (PyPI `moto[server]`, pinned
//! in requirements-tools.txt), and SDK clients to seed it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ssm::types::ParameterType;

use crate::provider::ensure_tools;

pub(crate) struct Moto {
    child: Child,
    pub url: String,
    pub client: aws_sdk_ssm::Client,
}

fn tools_dir() -> PathBuf {
    std::env::var("TOOLS_DIR").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools"),
        PathBuf::from,
    )
}

impl Moto {
    pub(crate) async fn start(name: &str) -> Moto {
        ensure_tools();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("moto-{name}.log"));
        let child = Command::new(tools_dir().join("venv/bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::from(
                std::fs::File::options().append(true).open(&log).unwrap(),
            ))
            .spawn()
            .expect("moto_server starts");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto_server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let config = aws_sdk_ssm::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&url)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .build();
        Moto {
            child,
            url,
            client: aws_sdk_ssm::Client::from_conf(config),
        }
    }

    pub(crate) async fn put(&self, name: &str, value: &str, secure: bool) {
        self.client
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(if secure {
                ParameterType::SecureString
            } else {
                ParameterType::String
            })
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }

    pub(crate) async fn get(&self, name: &str) -> Option<String> {
        let output = self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .ok()?;
        output
            .parameter()
            .and_then(|p| p.value())
            .map(str::to_owned)
    }

    /// A DynamoDB table as the template's `DpopReplayTable`: partition key `pk`, TTL on
    /// `expires_at` (moto records the TTL setting; it does not expire items itself).
    pub(crate) async fn create_replay_table(&self, name: &str) {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
            TimeToLiveSpecification,
        };
        let client = self.dynamodb();
        client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name("expires_at")
                    .enabled(true)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }

    /// How many items the table holds.
    pub(crate) async fn items(&self, table: &str) -> usize {
        let output = self
            .dynamodb()
            .scan()
            .table_name(table)
            .send()
            .await
            .unwrap();
        output.items().len()
    }

    fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .endpoint_url(&self.url)
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// What the authorizer needs to reach this SSM and DynamoDB API.
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL_SSM", self.url.clone()),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
