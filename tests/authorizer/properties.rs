//! Property tests: for any input, no panic, and Allow only when a configured key really
//! signed a valid token.

use proptest::prelude::*;
use serde_json::{Value, json};
use token_verifier::Algorithm;
use token_verifier::Authorizer;
use token_verifier::Outcome;
use token_verifier::testing::KeySet;

use crate::support::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn outcome(rt: &tokio::runtime::Runtime, authorizer: &Authorizer, authorization: &str) -> Outcome {
    rt.block_on(decide(authorizer, rest_token(authorization)))
        .record
        .outcome
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[ -~]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("RS256"),
            Just("none"),
            Just("HS256"),
            Just("rsa-a"),
            Just(ISSUER),
            Just(AUDIENCE)
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("alg".to_owned()),
                    Just("kid".to_owned()),
                    Just("typ".to_owned()),
                    Just("crit".to_owned()),
                    Just("iss".to_owned()),
                    Just("aud".to_owned()),
                    Just("exp".to_owned()),
                    Just("nbf".to_owned()),
                    Just("iat".to_owned()),
                    Just("sub".to_owned()),
                    Just("scope".to_owned()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_credentials_never_allow(raw in "\\PC{0,300}", dots in "[A-Za-z0-9_.=+/-]{0,600}") {
        let rt = runtime();
        let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
        prop_assert_ne!(outcome(&rt, &authorizer, &format!("Bearer {raw}")), Outcome::Allow);
        prop_assert_ne!(outcome(&rt, &authorizer, &format!("Bearer {dots}")), Outcome::Allow);
        prop_assert_ne!(outcome(&rt, &authorizer, &raw), Outcome::Allow);
    }

    #[test]
    fn arbitrary_headers_and_payloads_never_allow_unless_truly_signed(
        header in json_value(), payload in json_value(), kid in prop_oneof![Just("rsa-a"), Just("rsa-b")],
    ) {
        let rt = runtime();
        let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
        let mut header = header;
        if let Value::Object(map) = &mut header {
            map.insert("kid".into(), json!(kid));
        }
        // Signed by a key the authorizer does not have: never allowed, whatever it says.
        let forged = rsa_b().sign_parts(Algorithm::RS256, header.to_string().as_bytes(), payload.to_string().as_bytes()).unwrap();
        prop_assert_ne!(outcome(&rt, &authorizer, &format!("Bearer {forged}")), Outcome::Allow);
        // Signed by the real key: allowed only if header and claims are really acceptable.
        let real = rsa_a().sign_parts(Algorithm::RS256, header.to_string().as_bytes(), payload.to_string().as_bytes()).unwrap();
        if outcome(&rt, &authorizer, &format!("Bearer {real}")) == Outcome::Allow {
            prop_assert_eq!(&header["alg"], "RS256");
            prop_assert_eq!(&payload["iss"], ISSUER);
            prop_assert!(payload["exp"].is_number());
        }
    }

    #[test]
    fn any_edit_of_a_valid_token_is_refused(position in any::<prop::sample::Index>(), edit in 0u8..3, ch in "[A-Za-z0-9_.=+/ -]") {
        let rt = runtime();
        let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
        let good = rsa_a().mint(&claims(json!({}))).unwrap();
        let mut chars: Vec<char> = good.chars().collect();
        let i = position.index(chars.len());
        let c = ch.chars().next().unwrap();
        match edit {
            0 => chars[i] = c,
            1 => chars.insert(i, c),
            _ => { chars.remove(i); }
        }
        let mutated: String = chars.into_iter().collect();
        let allowed = outcome(&rt, &authorizer, &format!("Bearer {mutated}")) == Outcome::Allow;
        prop_assert_eq!(allowed, mutated == good || mutated.trim() == good);
    }

    #[test]
    fn claims_decide_exactly_as_the_specification_says(
        iss in prop_oneof![Just(json!(ISSUER)), Just(json!("https://idp.example.com")), Just(json!([ISSUER])), Just(Value::Null)],
        aud in prop_oneof![Just(json!(AUDIENCE)), Just(json!([AUDIENCE, "x"])), Just(json!("https://other")), Just(json!([])), Just(json!(123)), Just(Value::Null)],
        exp_offset in prop_oneof![Just(Some(600i64)), Just(Some(-30)), Just(Some(-600)), Just(None)],
        nbf_offset in prop_oneof![Just(None), Just(Some(-10i64)), Just(Some(30)), Just(Some(3600))],
        exp_as_string in any::<bool>(),
        sub in prop_oneof![Just(json!("user")), Just(json!("")), Just(Value::Null), Just(json!(7))],
    ) {
        let rt = runtime();
        let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
        let now = unix_now();
        let exp = exp_offset.map(|o| if exp_as_string { json!((now + o).to_string()) } else { json!(now + o) });
        let mut extra = json!({"iss": iss, "aud": aud, "sub": sub, "exp": exp.clone().unwrap_or(Value::Null)});
        if let Some(o) = nbf_offset { extra["nbf"] = json!(now + o); }
        let token = rsa_a().mint(&claims(extra)).unwrap();
        let expected = iss == json!(ISSUER)
            && (aud == json!(AUDIENCE) || aud == json!([AUDIENCE, "x"]))
            && exp_offset.is_some_and(|o| o > -60) && !exp_as_string
            && nbf_offset.is_none_or(|o| o <= 60)
            && (sub == json!("user") || sub == json!(7));
        let allowed = outcome(&rt, &authorizer, &format!("Bearer {token}")) == Outcome::Allow;
        prop_assert_eq!(allowed, expected);
    }

    #[test]
    fn arbitrary_key_sets_never_panic_and_never_yield_unsafe_keys(doc in json_value(), keys in prop::collection::vec(json_value(), 0..6)) {
        let _ = KeySet::parse(doc.to_string().as_bytes(), &Algorithm::ALL);
        let mut keys = keys;
        keys.push(json!({"kty": "oct", "k": "c2VjcmV0", "kid": "rsa-a"}));
        keys.push(rsa_a().public_jwk());
        let set = KeySet::parse(json!({"keys": keys}).to_string().as_bytes(), &Algorithm::ALL).unwrap();
        prop_assert!(!set.is_empty());
        for key in set.keys() {
            prop_assert!(!key.description.starts_with("oct"));
        }
    }
}
