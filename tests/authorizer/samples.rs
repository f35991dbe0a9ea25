//! Every sample in `events/` answers exactly as `events/expected/` records, so the
//! samples users copy cannot rot. (`tests/e2e` checks the same through the Lambda
//! emulator and the built binary.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use token_verifier::{Authorizer, Config};

use crate::support::decide;

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

/// The configuration `sam local invoke --env-vars events/env.json` gives the function.
pub(crate) fn sample_config() -> Config {
    let env: Value =
        serde_json::from_str(&std::fs::read_to_string(events_dir().join("env.json")).unwrap())
            .unwrap();
    let vars: HashMap<String, String> = env["AuthorizerFunction"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    Config::from_lookup(|name| vars.get(name).cloned()).unwrap()
}

#[tokio::test]
async fn every_sample_event_gets_its_recorded_answer() {
    let authorizer = Authorizer::new(sample_config()).unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(events_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.extension().is_none_or(|e| e != "json")
            || name == "env.json"
            || name == "dev-jwks.json"
        {
            continue;
        }
        let event: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(events_dir().join("expected").join(&name))
                .unwrap_or_else(|_| panic!("events/expected/{name} is missing")),
        )
        .unwrap();
        let decided = decide(&authorizer, event).await;
        let reason = decided.reason();
        let response = match decided.answer {
            Ok(answer) => answer,
            Err(failure) => {
                let d = Diagnostic::from(failure);
                json!({"errorType": d.error_type, "errorMessage": d.error_message})
            }
        };
        assert_eq!(response, expected["response"], "{name}");
        assert_eq!(reason, expected["reason"], "{name}");
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} samples");
}

#[test]
fn the_sample_configuration_needs_no_network() {
    let config = sample_config();
    assert!(matches!(
        config.issuers[0].keys,
        token_verifier::settings::KeySource::Inline(_)
    ));
}
