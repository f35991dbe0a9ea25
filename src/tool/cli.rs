//! `token-verifier`: the developer tool beside the Lambda binary (the `token-verifier`
//! binary calls [`main`]).
//!
//! ```text
//! token-verifier mint --key FILE [--kid KID] [--alg ALG] [--iss ISS] [--aud AUD] [--sub SUB]
//!                     [--scope "a b"] [--ttl SECONDS | --exp UNIX] [--claims JSON] [--claim NAME=VALUE]...
//!                     [--dpop-key FILE]
//! token-verifier jwks --key FILE[:KID[:ALG]]...
//! token-verifier proof --key FILE [--alg ALG] --method METHOD --url URL [--token TOKEN] [--jti JTI] [--iat UNIX]
//! token-verifier check-config FILE
//! token-verifier explain [--issuer ISS --audience AUD... | --config FILE | --env] [--jwks FILE | --jwks-uri URL]
//!                        [--scopes "a b"] [--algorithms LIST] [--preset NAME] [--set NAME=VALUE]...
//!                        [--arn ARN] [--cert PEM] [--dpop PROOF --method M --url U] [--now UNIX] [--offline] [--json] [TOKEN | FILE | -]
//! ```
//! `explain` decodes a token without trusting it and reports what it is and every check
//! the authorizer would run, with the authorizer's reason codes and hints; exit status 0
//! when the authorizer would allow it, 1 when it would not (or not every check could
//! run), 2 for a usage or configuration error.
//! `check-config` validates a configuration document together with the current
//! environment (as the authorizer would combine them) and prints the effective
//! configuration; exit status 0 when valid, 2 with one error line when not.
//! `mint` prints a signed access token (header `typ: at+jwt`); `iss` and `aud` default to
//! `TOKEN_ISSUER` and the first `AUDIENCE` of the environment; a `null` in `--claims`
//! removes a default claim; `--dpop-key FILE` binds the token to that key (`cnf.jkt`).
//! `proof` prints a DPoP proof by a key for one request (and token). `jwks` prints the public
//! key set of private keys. Keys are PKCS#8 PEM files (`openssl genpkey`).

use std::process::ExitCode;

use serde_json::{Map, Value, json};
use std::fmt::Write as _;

use super::dev::{SigningKey, jwks};
use super::explain::{self, Report};
use crate::authorizer::Authorizer;
use crate::config::{Config, ConfigDocument, EnvConfig};
use crate::settings::{Algorithm, KeySource};

const USAGE: &str = "usage:
  token-verifier mint --key FILE [--kid KID] [--alg ALG] [--iss ISS] [--aud AUD] [--sub SUB]
                      [--scope \"a b\"] [--ttl SECONDS | --exp UNIX] [--claims JSON] [--claim NAME=VALUE]...
                      [--dpop-key FILE]
  token-verifier jwks --key FILE[:KID[:ALG]]...
  token-verifier proof --key FILE [--alg ALG] --method METHOD --url URL [--token TOKEN] [--jti JTI] [--iat UNIX]
  token-verifier check-config FILE
  token-verifier explain [--issuer ISS --audience AUD... | --config FILE | --env] [--jwks FILE | --jwks-uri URL]
                         [--scopes \"a b\"] [--algorithms LIST] [--preset NAME] [--set NAME=VALUE]...
                         [--arn ARN] [--cert PEM] [--dpop PROOF --method M --url U] [--now UNIX] [--offline] [--json] [TOKEN | FILE | -]";

/// Runs the command line of `std::env::args`; the exit status is 0 for success, 1 when
/// `explain` finds that the authorizer would not allow the token, 2 for a usage or
/// configuration error.
#[must_use]
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("mint") => mint(&args[1..]),
        Some("jwks") => keyset(&args[1..]),
        Some("proof") => proof(&args[1..]),
        Some("check-config") => check_config(&args[1..]),
        Some("explain") => return explain(&args[1..]),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

/// `--name value` pairs, in order; repeated names allowed.
fn options(args: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let Some(name) = flag.strip_prefix("--") else {
            return Err(format!("unexpected argument {flag}\n{USAGE}"));
        };
        let value = iter
            .next()
            .ok_or_else(|| format!("--{name} needs a value\n{USAGE}"))?;
        pairs.push((name.to_owned(), value.clone()));
    }
    Ok(pairs)
}

fn load_key(path: &str, kid: Option<&str>, alg: Option<&str>) -> Result<SigningKey, String> {
    let pem = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let kid = kid.map_or_else(
        || {
            std::path::Path::new(path)
                .file_stem()
                .map_or_else(|| "dev".to_owned(), |s| s.to_string_lossy().into_owned())
        },
        str::to_owned,
    );
    let candidates = match alg {
        Some(name) => {
            vec![Algorithm::from_name(name).ok_or_else(|| format!("unknown --alg {name}"))?]
        }
        None => vec![
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::ES512,
            Algorithm::EdDSA,
        ],
    };
    candidates
        .into_iter()
        .find_map(|alg| SigningKey::from_pem(&pem, &kid, alg).ok())
        .ok_or_else(|| {
            format!("{path} is not a PKCS#8 PEM private key for the requested algorithm")
        })
}

/// The value of the last `--name` given.
fn last(opts: &[(String, String)], name: &str) -> Option<String> {
    opts.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

fn mint(args: &[String]) -> Result<String, String> {
    let opts = options(args)?;
    let get = |name: &str| last(&opts, name);
    let key_path = get("key").ok_or_else(|| format!("--key is required\n{USAGE}"))?;
    let key = load_key(&key_path, get("kid").as_deref(), get("alg").as_deref())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let exp = match (get("exp"), get("ttl")) {
        (Some(exp), _) => exp
            .parse::<u64>()
            .map_err(|_| "--exp must be a Unix time".to_owned())?,
        (None, ttl) => {
            now + ttl
                .as_deref()
                .unwrap_or("3600")
                .parse::<u64>()
                .map_err(|_| "--ttl must be seconds".to_owned())?
        }
    };
    let iss = get("iss")
        .or_else(|| std::env::var("TOKEN_ISSUER").ok())
        .ok_or("--iss is required (or set TOKEN_ISSUER)")?;
    let aud = get("aud")
        .or_else(|| {
            std::env::var("AUDIENCE")
                .ok()
                .and_then(|a| a.split(',').next().map(|s| s.trim().to_owned()))
        })
        .ok_or("--aud is required (or set AUDIENCE)")?;
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(iss));
    claims.insert(
        "sub".into(),
        json!(get("sub").unwrap_or_else(|| "dev-user".to_owned())),
    );
    claims.insert("aud".into(), json!(aud));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(exp));
    claims.insert("client_id".into(), json!("dev-client"));
    claims.insert("jti".into(), json!(format!("dev-{now}")));
    if let Some(scope) = get("scope") {
        claims.insert("scope".into(), json!(scope));
    }
    for (name, value) in &opts {
        match name.as_str() {
            "claims" => {
                let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(value) else {
                    return Err("--claims must be a JSON object".to_owned());
                };
                for (claim, value) in extra {
                    if value.is_null() {
                        claims.remove(&claim);
                    } else {
                        claims.insert(claim, value);
                    }
                }
            }
            "claim" => {
                let (claim, raw) = value.split_once('=').ok_or("--claim must be NAME=VALUE")?;
                let parsed = serde_json::from_str(raw).unwrap_or_else(|_| json!(raw));
                claims.insert(claim.to_owned(), parsed);
            }
            "dpop-key" => {
                let client = load_key(value, None, None)?;
                claims.insert("cnf".into(), json!({"jkt": client.thumbprint()}));
            }
            _ => {}
        }
    }
    key.mint(&Value::Object(claims))
}

fn keyset(args: &[String]) -> Result<String, String> {
    let opts = options(args)?;
    let mut keys = Vec::new();
    for (name, value) in &opts {
        if name != "key" {
            return Err(format!("unknown option --{name}\n{USAGE}"));
        }
        let mut parts = value.splitn(3, ':');
        let path = parts.next().unwrap_or_default();
        keys.push(load_key(path, parts.next(), parts.next())?);
    }
    if keys.is_empty() {
        return Err(format!("--key is required\n{USAGE}"));
    }
    let refs: Vec<&SigningKey> = keys.iter().collect();
    serde_json::to_string_pretty(&jwks(&refs)).map_err(|e| e.to_string())
}

/// `proof`: a DPoP proof by `--key` for one request (`--method`, `--url`) and, with
/// `--token`, for that access token (`ath`).
fn proof(args: &[String]) -> Result<String, String> {
    let opts = options(args)?;
    let get = |name: &str| last(&opts, name);
    for (name, _) in &opts {
        if !["key", "alg", "method", "url", "token", "jti", "iat"].contains(&name.as_str()) {
            return Err(format!("unknown option --{name}\n{USAGE}"));
        }
    }
    let key_path = get("key").ok_or_else(|| format!("--key is required\n{USAGE}"))?;
    let key = load_key(&key_path, None, get("alg").as_deref())?;
    let method = get("method").ok_or_else(|| format!("--method is required\n{USAGE}"))?;
    let url = get("url").ok_or_else(|| format!("--url is required\n{USAGE}"))?;
    let iat = match get("iat") {
        Some(raw) => raw
            .parse::<f64>()
            .map_err(|_| "--iat must be a Unix time".to_owned())?,
        None => crate::token::now(),
    };
    let jti = if let Some(jti) = get("jti") {
        jti
    } else {
        let mut random = [0u8; 16];
        aws_lc_rs::rand::fill(&mut random).map_err(|e| e.to_string())?;
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, random)
    };
    let token = get("token").map(|t| explain::credential(&t).to_owned());
    key.dpop_proof(&method, &url, token.as_deref(), iat, &jti)
}

fn check_config(args: &[String]) -> Result<String, String> {
    let [path] = args else {
        return Err(format!("check-config takes one FILE\n{USAGE}"));
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let env = EnvConfig::from_lookup(|name| std::env::var(name).ok())
        .map_err(|e| format!("configuration error: {e}"))?;
    let document =
        ConfigDocument::parse(path, &text).map_err(|e| format!("configuration error: {e}"))?;
    let config =
        Config::combine(&env, Some(document)).map_err(|e| format!("configuration error: {e}"))?;
    let mut out = describe(&config);
    out.push_str(&describe_cedar(&config)?);
    Ok(out)
}

/// The Cedar policies, validated against their schema as at init: what they cover, and
/// what a policy answer can promise under API Gateway's cache.
fn describe_cedar(config: &Config) -> Result<String, String> {
    let Some(settings) = &config.cedar else {
        return Ok(String::new());
    };
    #[cfg(not(feature = "cedar"))]
    {
        Err(format!(
            "configuration error: {}: this build has no Cedar (cargo feature `cedar`)",
            settings.origin
        ))
    }
    #[cfg(feature = "cedar")]
    {
        // Validated whatever seal is configured: this is the check a seal stands for.
        let unsealed = crate::settings::CedarSettings {
            seal: None,
            ..settings.clone()
        };
        let cedar = crate::decision::cedar::CedarPolicies::build(&unsealed)
            .map_err(|e| format!("configuration error: {}: {}", settings.origin, e.message))?;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "cedar: {} policies over the {} actions of namespace {} ({}), groups from {}",
            cedar.policy_count(),
            cedar.action_count(),
            cedar.namespace,
            settings.origin,
            settings.group_claim
        );
        let seal_state = match &settings.seal {
            Some(seal) if *seal == cedar.seal => "configured: init does not validate them again",
            Some(_) => {
                "the configured seal is not theirs: init validates them; set this one instead"
            }
            None => {
                "set it as authorization.cedar.seal (or CEDAR_SEAL) and init does not validate them again"
            }
        };
        let _ = writeln!(
            out,
            "cedar seal: {} (validated against their schema; {seal_state})",
            cedar.seal
        );
        let beside = crate::authorizer::cedar::Beside::of(config);
        for advice in crate::authorizer::cedar::warnings(&cedar, beside) {
            let _ = writeln!(out, "warning: {advice}");
        }
        Ok(out)
    }
}

/// The effective configuration, for humans.
fn describe(config: &Config) -> String {
    let mut out = String::from("valid\n");
    for warning in &config.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    for issuer in &config.issuers {
        let keys = match &issuer.keys {
            KeySource::Discovery => "discovery".to_owned(),
            KeySource::Uri(url) => url.to_string(),
            KeySource::Inline(_) => "inline JWKS".to_owned(),
            KeySource::File(path) => path.display().to_string(),
        };
        let _ = writeln!(out, "issuer {}", issuer.issuer);
        let _ = writeln!(out, "  audiences        {}", issuer.audiences.join(", "));
        if let Some(fallback) = &issuer.audience_fallback_claim {
            let _ = writeln!(out, "  audience claim   {fallback} when a token has no aud");
        }
        let _ = writeln!(out, "  keys             {keys}");
        let algs: Vec<&str> = issuer.algorithms.iter().map(|a| a.name()).collect();
        let _ = writeln!(out, "  algorithms       {}", algs.join(", "));
        let _ = writeln!(out, "  leeway           {}s", issuer.leeway.as_secs());
        let _ = writeln!(
            out,
            "  principal        {}",
            issuer.principal_claims.join(", ")
        );
        let _ = writeln!(out, "  scopes from      {}", issuer.scope_claims.join(", "));
        if !issuer.required_scopes.is_empty() {
            let _ = writeln!(
                out,
                "  required scopes  {} ({:?})",
                issuer.required_scopes.join(" "),
                issuer.scope_match
            );
        }
        if !issuer.required_claims.is_empty() {
            let _ = writeln!(
                out,
                "  required claims  {}",
                issuer.required_claims.join(", ")
            );
        }
        if issuer.sender_constraint != crate::settings::SenderConstraint::Off {
            let _ = writeln!(
                out,
                "  sender constraint {} (DPoP proofs, client certificates)",
                issuer.sender_constraint.as_str()
            );
        }
    }
    if config.gateway.dpop {
        let algs: Vec<&str> = config.dpop.algorithms.iter().map(|a| a.name()).collect();
        let _ = writeln!(
            out,
            "dpop proofs: {}; at most {}s old; replays remembered {} per environment{}",
            algs.join(", "),
            config.dpop.max_age.as_secs(),
            config.dpop.replay_capacity,
            config
                .dpop
                .replay_table
                .as_ref()
                .map_or_else(String::new, |t| format!(" and in DynamoDB table {t}"))
        );
        if let Some(base) = &config.gateway.public_base_url {
            let _ = writeln!(out, "public base url: {base}");
        }
    }
    if !config.routes.is_empty() {
        let _ = writeln!(out, "routes (default {:?})", config.routes.default);
        for rule in &config.routes.rules {
            let _ = writeln!(
                out,
                "  {}  scopes [{}] claims {}",
                rule.pattern,
                rule.scopes.join(" "),
                rule.claims.len()
            );
        }
    }
    out.trim_end().to_owned()
}

/// `explain`: parses its arguments, builds the authorizer as the Lambda function would
/// (without fetching anything yet), and prints the report.
fn explain(args: &[String]) -> ExitCode {
    let (request, json) = match ExplainRequest::parse(args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start: {error}");
            return ExitCode::from(2);
        }
    };
    let report = match runtime.block_on(request.run()) {
        Ok(report) => report,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if json {
        match serde_json::to_string_pretty(&report.to_json()) {
            Ok(text) => println!("{text}"),
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::from(2);
            }
        }
    } else {
        print!("{}", report.render());
    }
    ExitCode::from(report.exit_code())
}

/// Whether an argument that names no existing file was meant as one (so a typo is "cannot
/// read", not a token judged malformed): a relative path prefix or a file-name ending. No
/// token looks like this: a JWS's last segment is a 43+ character signature, and a bare
/// leading `/` is left out because a standard-base64 opaque token may start with one.
fn looks_like_a_path(arg: &str) -> bool {
    let lower = arg.to_ascii_lowercase();
    ["./", "../", "~/"].iter().any(|p| lower.starts_with(p))
        || [".txt", ".jwt", ".jws", ".jwe", ".json", ".token", ".tok"]
            .iter()
            .any(|ext| lower.ends_with(ext))
}

/// An `explain` invocation, parsed.
#[derive(Clone)]
struct ExplainRequest {
    /// Variables from the flags, as the Lambda function reads them from its environment.
    vars: Vec<(String, String)>,
    config_file: Option<String>,
    use_env: bool,
    offline: bool,
    arn: Option<String>,
    now: Option<f64>,
    cert_file: Option<String>,
    dpop: Option<String>,
    method: Option<String>,
    url: Option<String>,
    input: Option<String>,
}

impl ExplainRequest {
    fn parse(args: &[String]) -> Result<(Self, bool), String> {
        let mut request = ExplainRequest {
            vars: Vec::new(),
            config_file: None,
            use_env: false,
            offline: false,
            arn: None,
            now: None,
            cert_file: None,
            dpop: None,
            method: None,
            url: None,
            input: None,
        };
        let mut json = false;
        let mut audiences = Vec::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let mut value = |flag: &str| {
                iter.next()
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
            };
            match arg.as_str() {
                "--json" => json = true,
                "--offline" => request.offline = true,
                "--env" => request.use_env = true,
                "--issuer" => request.vars.push(("TOKEN_ISSUER".into(), value(arg)?)),
                "--audience" => audiences.push(value(arg)?),
                "--jwks" => request.vars.push(("JWKS_FILE".into(), value(arg)?)),
                "--jwks-uri" => request.vars.push(("JWKS_URI".into(), value(arg)?)),
                "--scopes" => request.vars.push(("REQUIRED_SCOPES".into(), value(arg)?)),
                "--algorithms" => request
                    .vars
                    .push(("ALLOWED_ALGORITHMS".into(), value(arg)?)),
                "--preset" => request.vars.push(("IDP_PRESET".into(), value(arg)?)),
                "--set" => {
                    let pair = value(arg)?;
                    let (name, v) = pair
                        .split_once('=')
                        .ok_or_else(|| format!("--set takes NAME=VALUE, got {pair}"))?;
                    request.vars.push((name.to_owned(), v.to_owned()));
                }
                "--config" => request.config_file = Some(value(arg)?),
                "--arn" => request.arn = Some(value(arg)?),
                "--cert" => request.cert_file = Some(value(arg)?),
                "--dpop" => request.dpop = Some(value(arg)?),
                "--method" => request.method = Some(value(arg)?),
                "--url" => request.url = Some(value(arg)?),
                "--now" => {
                    let raw = value(arg)?;
                    request.now = Some(
                        raw.parse::<f64>()
                            .ok()
                            .filter(|n| n.is_finite())
                            .ok_or_else(|| format!("--now must be a Unix time, got {raw}"))?,
                    );
                }
                flag if flag.starts_with("--") => {
                    return Err(format!("unknown option {flag}\n{USAGE}"));
                }
                positional => {
                    if request.input.replace(positional.to_owned()).is_some() {
                        return Err(format!("explain takes one token, file or -\n{USAGE}"));
                    }
                }
            }
        }
        if !audiences.is_empty() {
            request.vars.push(("AUDIENCE".into(), audiences.join(",")));
        }
        let given = [&request.dpop, &request.method, &request.url]
            .iter()
            .filter(|v| v.is_some())
            .count();
        if given != 0 && given != 3 {
            return Err(format!(
                "--dpop, --method and --url go together (the proof and the request it is for)\n{USAGE}"
            ));
        }
        Ok((request, json))
    }

    /// The variable `name`: from the flags, then (with `--env`) the process environment.
    fn lookup(&self, name: &str) -> Option<String> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .or_else(|| self.use_env.then(|| std::env::var(name).ok()).flatten())
    }

    fn read_input(&self) -> Result<String, String> {
        match self.input.as_deref() {
            None | Some("-") => {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                    .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
                Ok(text)
            }
            Some(path) if std::path::Path::new(path).is_file() || looks_like_a_path(path) => {
                std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
            }
            Some(token) => Ok(token.to_owned()),
        }
    }

    async fn run(self) -> Result<Report, String> {
        let input = self.read_input()?;
        let configured = self.config_file.is_some() || self.use_env || !self.vars.is_empty();
        let mut audience_known = true;
        let authorizer = if configured {
            let mut vars = self.vars.clone();
            if self.config_file.is_none() && self.lookup("AUDIENCE").is_none() {
                // Judge everything else; the audience is reported as not checked.
                audience_known = false;
                vars.push(("AUDIENCE".into(), "-".into()));
            }
            let request = ExplainRequest {
                vars,
                ..self.clone()
            };
            let env = EnvConfig::from_lookup(|name| request.lookup(name))
                .map_err(|e| format!("configuration error: {e}"))?;
            let built = match &self.config_file {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| format!("cannot read {path}: {e}"))?;
                    let document = ConfigDocument::parse(path, &text)
                        .map_err(|e| format!("configuration error: {e}"))?;
                    let config = Config::combine(&env, Some(document))
                        .map_err(|e| format!("configuration error: {e}"))?;
                    Authorizer::new(config)
                }
                None => Authorizer::load(env).await,
            };
            // InitError's message already says "configuration error: …".
            Some(built.map_err(|e| e.to_string())?)
        } else {
            None
        };
        let options = explain::Options {
            offline: self.offline,
            audience_known,
            arn: self.arn.clone(),
            now: self.now.unwrap_or_else(crate::token::now),
            client_cert: match &self.cert_file {
                None => None,
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .map_err(|e| format!("cannot read --cert {path}: {e}"))?,
                ),
            },
            dpop: match (&self.dpop, &self.method, &self.url) {
                (Some(proof), Some(method), Some(url)) => Some(explain::Proof {
                    proof: proof.trim().to_owned(),
                    method: method.clone(),
                    url: url.clone(),
                }),
                _ => None,
            },
        };
        Ok(explain::explain(authorizer.as_ref(), &input, &options).await)
    }
}
