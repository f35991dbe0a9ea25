//! The developer tool: `check-config`, `mint`, `jwks`, with their exit codes.

#![allow(clippy::unwrap_used)]

use std::process::Command;

fn tool(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_token-verifier"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// A configuration document written to this test process's temporary folder.
fn document(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tv-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A schema of one action, `get /me`.
const ME_SCHEMA: &str = "namespace MyAPI { entity UserGroup; entity Application; entity User in [UserGroup]; action \"get /me\" appliesTo { principal: User, resource: Application }; }";

/// A configuration document with Cedar `policies` over `schema` (text or a JSON object),
/// sealed with `seal` if given, written as `name`.
fn cedar_document(
    name: &str,
    policies: &str,
    schema: &serde_json::Value,
    seal: Option<&str>,
) -> std::path::PathBuf {
    let mut cedar = serde_json::json!({"policies": policies, "schema": schema});
    if let Some(seal) = seal {
        cedar["seal"] = seal.into();
    }
    let text = serde_json::json!({
        "issuers": [{"issuer": "https://idp.example.com/", "audiences": ["api"]}],
        "authorization": {"cedar": cedar},
    });
    document(name, &text.to_string())
}

/// The seal `check-config` printed, and the rest of its line.
fn printed_seal(out: &str) -> (String, String) {
    let line = out
        .lines()
        .find_map(|line| line.strip_prefix("cedar seal: "))
        .unwrap_or_else(|| panic!("no seal printed: {out}"));
    let (seal, rest) = line.split_once(' ').unwrap_or((line, ""));
    (seal.to_owned(), rest.to_owned())
}

#[test]
fn check_config_accepts_the_example_and_prints_the_effective_configuration() {
    let (code, out, _) = tool(&["check-config", "docs/config.example.json"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("valid"));
    assert!(
        out.contains("audience claim   client_id when a token has no aud"),
        "{out}"
    );
    assert!(out.contains("/resource_access/web-app/roles"));
    assert!(
        out.contains("cedar: 2 policies over the 3 actions of namespace MyAPI (authorization.cedar of docs/config.example.json), groups from cognito:groups"),
        "{out}"
    );
    // The example has route rules beside its Cedar policies: what that costs the cache,
    // which a cached answer must be keyed by (the called path, not the template) ...
    let rules = out
        .lines()
        .find(|l| l.starts_with("warning: route rules beside Cedar policies"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(rules.contains("$context.path"), "{rules}");
    // ... and that its HTTP API simple responses (the default) are decided per route.
    let simple = out
        .lines()
        .find(|l| l.starts_with("warning: Cedar decides an HTTP API simple response"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(simple.contains("$context.routeKey"), "{simple}");
}

/// Cedar policies are validated against their schema, as at init: exit 2 and the line
/// and column of the first error.
#[test]
fn check_config_validates_cedar_policies_against_their_schema() {
    let bad = cedar_document(
        "cedar-bad.json",
        r#"permit(principal, action == MyAPI::Action::"get /you", resource);"#,
        &ME_SCHEMA.into(),
        None,
    );
    let (code, _, err) = tool(&["check-config", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("authorization.cedar of")
            && err.contains("does not match the schema: line 1, column"),
        "{err}"
    );
    let context = cedar_document(
        "cedar-context.json",
        r#"@id("office") permit(principal, action, resource) when { context has sourceIp };"#,
        &ME_SCHEMA.into(),
        None,
    );
    let (code, out, err) = tool(&["check-config", context.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    // The cache must be keyed by what the policy reads: the caller's address, the called
    // path (not the template the route key names), or no cache at all.
    let context = out
        .lines()
        .find(|l| l.starts_with("warning: Cedar policies `office` read the request's own context"))
        .unwrap_or_else(|| panic!("{out}"));
    for needed in ["$context.identity.sourceIp", "$context.path", "TTL to 0"] {
        assert!(context.contains(needed), "{needed}: {context}");
    }
    // A member of the context no request has: the policy always errs and is skipped.
    let query = cedar_document(
        "cedar-query.json",
        r#"@id("by-query") forbid(principal, action, resource) when { context has queryStringParameters };"#,
        &ME_SCHEMA.into(),
        None,
    );
    let (code, out, err) = tool(&["check-config", query.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("warning: Cedar policies read members of the context that no request has (`by-query: context.queryStringParameters`;"),
        "{out}"
    );
    assert!(!out.contains("read the request's own context"), "{out}");
    // Simple responses by default: keyed by route, the warning says; HTTP API answers as
    // policies (for every route of the token) have no simple response, and no warning.
    assert!(
        out.contains("warning: Cedar decides an HTTP API simple response"),
        "{out}"
    );
    let policy_answers = document(
        "cedar-policy-answers.json",
        &serde_json::json!({
            "issuers": [{"issuer": "https://idp.example.com/", "audiences": ["api"]}],
            "gateway": {"http_api_response": "policy"},
            "authorization": {"cedar": {
                "policies": r#"permit(principal, action == MyAPI::Action::"get /me", resource);"#,
                "schema": ME_SCHEMA,
            }},
        })
        .to_string(),
    );
    let (code, out, err) = tool(&["check-config", policy_answers.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("cedar: 1 policies"), "{out}");
    assert!(!out.contains("simple response"), "{out}");
}

/// After validating a Cedar set, `check-config` prints its seal; set in the document, it
/// is recognised, and it vouches for nothing else: a changed set is validated again.
#[test]
fn check_config_prints_the_seal_of_a_valid_cedar_set_and_validates_whatever_seal_is_set() {
    let good = r#"permit(principal, action == MyAPI::Action::"get /me", resource);"#;
    let bad = r#"permit(principal, action == MyAPI::Action::"get /you", resource);"#;
    let check = |name: &str, policies: &str, seal: Option<&str>| {
        let path = cedar_document(name, policies, &ME_SCHEMA.into(), seal);
        tool(&["check-config", path.to_str().unwrap()])
    };
    let (code, out, err) = check("cedar-unsealed.json", good, None);
    assert_eq!(code, 0, "{err}");
    let (seal, rest) = printed_seal(&out);
    assert!(
        rest.contains("set it as authorization.cedar.seal"),
        "{rest}"
    );
    assert!(
        seal.starts_with("sha256:") && seal.len() == "sha256:".len() + 64,
        "{seal}"
    );

    let (code, out, err) = check("cedar-sealed.json", good, Some(&seal));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("cedar seal: {seal} (validated against their schema; configured: init does not validate them again)")),
        "{out}"
    );

    // A changed set under the old seal, and even under its own seal, which only a hand
    // could write: check-config validates.
    let own = token_verifier::tool::dev::workload::cedar_seal(bad, ME_SCHEMA);
    for (name, seal) in [("cedar-changed.json", &seal), ("cedar-forged.json", &own)] {
        let (code, _, err) = check(name, bad, Some(seal));
        assert_eq!(code, 2, "{name}: {err}");
        assert!(
            err.contains("does not match the schema: line 1, column"),
            "{name}: {err}"
        );
    }
}

/// A schema given as a JSON object (as Verified Permissions exports it) is sealed as the
/// authorizer reads it: the seal check-config prints for a document is the one the
/// authorizer built from that document takes as the set's own.
#[test]
fn the_seal_check_config_prints_for_a_json_schema_is_the_one_init_trusts() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cedar/petstore");
    let policies = std::fs::read_to_string(format!("{dir}/policies.cedar")).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/schema.json")).unwrap())
            .unwrap();
    let unsealed = cedar_document("cedar-json-schema.json", &policies, &schema, None);
    let (code, out, err) = tool(&["check-config", unsealed.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (seal, _) = printed_seal(&out);
    let sealed = cedar_document("cedar-json-sealed.json", &policies, &schema, Some(&seal));
    let document = token_verifier::ConfigDocument::parse(
        "sealed.json",
        &std::fs::read_to_string(sealed).unwrap(),
    )
    .unwrap();
    let env = token_verifier::EnvConfig::from_lookup(|_| None::<String>).unwrap();
    let config = token_verifier::Config::combine(&env, Some(document)).unwrap();
    let (_, lines) = token_verifier::testing::Lines::capture(|| {
        token_verifier::Authorizer::new(config).unwrap()
    });
    assert!(
        lines.text().contains("Cedar policies carry their own seal"),
        "{}",
        lines.text()
    );
}

/// Valid but probably not meant: printed after `valid`, one `warning:` line each.
#[test]
fn check_config_prints_warnings() {
    let document = document(
        "okta.json",
        r#"{"issuers":[{"issuer":"https://dev-1.okta.com/oauth2/default/","audiences":["api://default"],"preset":"okta"}]}"#,
    );
    let output = Command::new(env!("CARGO_BIN_EXE_token-verifier"))
        .args(["check-config", document.to_str().unwrap()])
        .env_clear()
        .env("SCOPE_CLAIMS", "groups")
        .output()
        .unwrap();
    let out = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{out}");
    let warnings: Vec<&str> = out.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 2, "{out}");
    assert!(
        warnings[0].contains("does not look like this IdP's"),
        "{out}"
    );
    assert!(
        warnings[1]
            .contains("SCOPE_CLAIMS from the environment is not used: its preset okta sets it"),
        "{out}"
    );
    assert!(out.contains("scopes from      scp"), "{out}");
}

#[test]
fn check_config_names_what_is_wrong_and_where() {
    let bad = document(
        "bad.json",
        r#"{"issuers":[{"issuer":"https://x/","audiences":["a"],"algorithms":["none"]}]}"#,
    );
    let (code, _, err) = tool(&["check-config", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("issuers[0].algorithms: `none` is never accepted"),
        "{err}"
    );
    let (code, _, err) = tool(&["check-config", "/nonexistent.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"));
}

#[test]
fn mint_and_jwks_produce_a_token_the_key_set_verifies() {
    let (code, jwks, _) = tool(&[
        "jwks",
        "--key",
        "events/dev-keys/dev-rs256.pem:dev-rs256:RS256",
    ]);
    assert_eq!(code, 0);
    assert!(jwks.contains("\"kid\": \"dev-rs256\""));
    let (code, token, _) = tool(&[
        "mint",
        "--key",
        "events/dev-keys/dev-rs256.pem",
        "--kid",
        "dev-rs256",
        "--iss",
        "https://i/",
        "--aud",
        "a",
        "--claim",
        "n=7",
        "--claims",
        r#"{"client_id":null}"#,
    ]);
    assert_eq!(code, 0);
    assert_eq!(token.trim().split('.').count(), 3);
    let (code, _, err) = tool(&["mint", "--key", "events/dev-keys/dev-rs256.pem"]);
    assert_eq!(code, 2, "no issuer");
    assert!(err.contains("--iss"));
    assert_eq!(tool(&["frobnicate"]).0, 2);
}

// ---------------------------------------------------------------- explain

const ISS: &str = "https://dev.example/";
const AUD: &str = "https://api.example";

fn explain(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_token-verifier"))
        .arg("explain")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The tool may exit before reading (usage errors): a broken pipe is not a failure.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn dev_token(extra: &[&str]) -> String {
    let mut args = vec![
        "mint",
        "--key",
        "events/dev-keys/dev-rs256.pem",
        "--kid",
        "dev-rs256",
        "--iss",
        ISS,
        "--aud",
        AUD,
        "--scope",
        "read:messages",
    ];
    args.extend_from_slice(extra);
    let (code, token, err) = tool(&args);
    assert_eq!(code, 0, "{err}");
    token.trim().to_owned()
}

const CONFIGURED: [&str; 6] = [
    "--issuer",
    ISS,
    "--audience",
    AUD,
    "--jwks",
    "events/dev-jwks.json",
];

#[test]
fn explain_a_valid_token_exits_0_and_never_prints_the_token_or_its_signature() {
    let token = dev_token(&[]);
    let (code, out, err) = explain(&CONFIGURED, &format!("Bearer {token}\n"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Verdict   ALLOW"), "{out}");
    assert!(out.contains("Claims    (signature verified)"));
    assert!(
        out.contains("expires in 59m") || out.contains("expires in 1h 0m"),
        "{out}"
    );
    let signature = token.rsplit('.').next().unwrap();
    assert!(!out.contains(signature) && !out.contains(&token));

    // The token from a file, and as JSON.
    let dir = std::env::temp_dir().join(format!("tv-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token.txt");
    std::fs::write(&file, &token).unwrap();
    let mut args = CONFIGURED.to_vec();
    args.extend(["--json", file.to_str().unwrap()]);
    let (code, out, _) = explain(&args, "");
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["kind"], "access_token");
    assert_eq!(report["verdict"]["result"], "allow");
    assert_eq!(report["checks"].as_array().unwrap().len(), 20);
    assert!(
        report["times"]["exp"]["utc"]
            .as_str()
            .unwrap()
            .ends_with(" UTC")
    );
    assert!(!out.contains(signature));
}

#[test]
fn explain_names_the_forum_cases_with_their_fix() {
    // Opaque: the app asked for no audience.
    let (code, out, _) = explain(&[], "Bearer 8xLOxBtZp8nJvUWO2Jv9k1rE3fGzQ_hQ");
    assert_eq!(code, 1);
    assert!(out.contains("an opaque token"), "{out}");
    assert!(out.contains("authorizationParams.audience"));
    assert!(out.contains("opaque_token"));

    // JWE: same cause; its header is readable and shown.
    let jwe = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwiaXNzIjoiaHR0cHM6Ly9kZXYuZXhhbXBsZS8ifQ..abc.def.ghi";
    let (code, out, _) = explain(&CONFIGURED, jwe);
    assert_eq!(code, 1);
    assert!(out.contains("an encrypted JWE"), "{out}");
    assert!(out.contains("enc           A256GCM"), "{out}");
    assert!(out.contains("encrypted_token"));

    // An ID token sent where the access token belongs.
    let id_token = dev_token(&["--claims", r#"{"at_hash":"x","nonce":"n","scope":null}"#]);
    let (code, out, _) = explain(&CONFIGURED, &id_token);
    assert_eq!(code, 1);
    assert!(out.contains("an OpenID Connect ID token"), "{out}");
    assert!(out.contains("send the access token"));

    // A wrong audience: what was found, what was expected.
    let other = dev_token(&["--aud", "https://dev.example/userinfo"]);
    let (code, out, _) = explain(&CONFIGURED, &other);
    assert_eq!(code, 1);
    assert!(
        out.contains("aud is https://dev.example/userinfo, expected https://api.example"),
        "{out}"
    );

    // iss differs only by a trailing slash.
    let (code, out, _) = explain(
        &[
            "--issuer",
            "https://dev.example",
            "--audience",
            AUD,
            "--jwks",
            "events/dev-jwks.json",
        ],
        &dev_token(&[]),
    );
    assert_eq!(code, 1);
    assert!(out.contains("differ only by a trailing slash"), "{out}");

    // Expired, with when.
    let expired = dev_token(&["--exp", "1700000000"]);
    let (code, out, _) = explain(&CONFIGURED, &expired);
    assert_eq!(code, 1);
    assert!(out.contains("2023-11-14 22:13:20 UTC, expired"), "{out}");
    assert!(out.contains("UNAUTHORIZED (401): expired"));

    // Garbage.
    let (code, out, _) = explain(&[], "hello, world");
    assert_eq!(code, 1);
    assert!(
        out.contains("not a token this authorizer can read"),
        "{out}"
    );

    // A valid token missing a scope is a 403.
    let (code, out, _) = explain(
        &[&CONFIGURED[..], &["--scopes", "write:messages"]].concat(),
        &dev_token(&[]),
    );
    assert_eq!(code, 1);
    assert!(out.contains("DENY (403): insufficient_scope"), "{out}");
}

#[test]
fn explain_without_keys_says_what_it_could_not_check() {
    let token = dev_token(&[]);
    let (code, out, _) = explain(&[], &token);
    assert_eq!(code, 1, "unverified is not valid");
    assert!(out.contains("Claims    (untrusted: the signature was not verified)"));
    assert!(out.contains("----  signature         not checked"), "{out}");
    assert!(out.contains("INCOMPLETE"), "{out}");
    let (code, out, _) = explain(
        &[
            "--issuer",
            ISS,
            "--audience",
            AUD,
            "--jwks-uri",
            "https://127.0.0.1:9/jwks",
            "--offline",
        ],
        &token,
    );
    assert_eq!(code, 1);
    assert!(out.contains("--offline: the keys of"), "{out}");
}

#[test]
fn explain_usage_and_configuration_errors_exit_2() {
    let token = dev_token(&[]);
    for args in [
        &["--frobnicate"][..],
        &["--issuer"][..],
        &["--issuer", ISS, "--set", "ALLOWED_ALGORITHMS=none"][..],
        &["--config", "/nonexistent.json"][..],
        &["--now", "soon"][..],
        &["a.b.c", "d.e.f"][..],
        &["token.txt"][..],
        &["./missing-token"][..],
    ] {
        let (code, _, err) = explain(args, &token);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.is_empty());
    }
}

#[test]
fn explain_reads_a_configuration_document_as_the_authorizer_does() {
    let (code, out, err) = explain(
        &["--config", "docs/config.example.json", "--offline"],
        &dev_token(&[]),
    );
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("FAIL  issuer"), "{out}");
    assert!(out.contains("wrong_issuer"));
}

#[test]
fn an_opaque_token_starting_with_a_slash_is_judged_not_read_as_a_file() {
    let opaque = "/k3J9xQ2mZpL8vR4tY6wB1nC5dF7gH0jK";
    let output = Command::new(env!("CARGO_BIN_EXE_token-verifier"))
        .args(["explain", opaque])
        .env_clear()
        .output()
        .unwrap();
    let out = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("opaque_token"), "{out}");
}

#[test]
fn explain_never_panics_on_text_and_never_echoes_it() {
    for input in ["aéééééééé", "Authorizatioé x", "ü", "\u{0}\u{1b}[31m"] {
        let (code, out, err) = explain(&["--offline"], input);
        assert_eq!(code, 1, "{input:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.contains(input) && !err.contains(input), "{out}{err}");
    }
}

/// DPoP from the command line: `mint --dpop-key` binds a token to a client key, `proof`
/// signs a proof by that key for one request, and `explain --dpop --method --url` judges
/// it as the authorizer would (the wrong URL named with its reason).
#[test]
fn a_dpop_bound_token_and_its_proof_from_the_tool_are_judged_by_explain() {
    let token = dev_token(&["--dpop-key", "tests/keys/ec-p256.pem"]);
    let url = "https://api.example.com/prod/messages";
    let (code, proof, err) = tool(&[
        "proof",
        "--key",
        "tests/keys/ec-p256.pem",
        "--method",
        "GET",
        "--url",
        url,
        "--token",
        &token,
    ]);
    assert_eq!(code, 0, "{err}");
    let proof = proof.trim().to_owned();
    let mut args = CONFIGURED.to_vec();
    args.extend([
        "--set",
        "SENDER_CONSTRAINT=allow",
        "--dpop",
        &proof,
        "--method",
        "GET",
        "--url",
        url,
    ]);
    let (code, out, err) = explain(&args, &token);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Verdict   ALLOW"), "{out}");
    assert!(out.contains("replay not checked"), "{out}");
    let mut elsewhere = args.clone();
    let at = elsewhere.iter().position(|a| *a == url).unwrap();
    elsewhere[at] = "https://api.example.com/prod/admin";
    let (code, out, _) = explain(&elsewhere, &token);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("proof_request_mismatch"), "{out}");
    // Without the proof the binding is not checked, and the verdict says so.
    let mut bare = CONFIGURED.to_vec();
    bare.extend(["--set", "SENDER_CONSTRAINT=allow"]);
    let (code, out, _) = explain(&bare, &token);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("--dpop PROOF"), "{out}");
    // check-config says how proofs are judged.
    let config = document(
        "dpop.json",
        r#"{"issuers": [{"issuer": "https://dev.example/", "audiences": ["https://api.example"], "sender_constraint": "require"}],
            "dpop": {"algorithms": ["ES256"], "replay_table": "proofs"}}"#,
    );
    let (code, out, err) = tool(&["check-config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("sender constraint require")
            && out.contains("dpop proofs: ES256; at most 60s old")
            && out.contains("DynamoDB table proofs"),
        "{out}"
    );
    // --dpop needs --method and --url.
    let (code, _, err) = explain(&["--dpop", &proof], &token);
    assert_eq!(code, 2);
    assert!(err.contains("go together"), "{err}");
    assert!(!out.contains(&proof));
}
