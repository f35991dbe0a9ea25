//! The HTTP side of a decision: the bearer credential from the request's headers, and a
//! refusal as RFC 6750 answers it — status, `WWW-Authenticate` challenge, JSON body.

use ::http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use ::http::{Response, StatusCode};

use crate::authorizer::call::Refused;
use crate::gateway::credential::credential as credential_from;
use crate::refusal::{Outcome, Reason, Refusal};
use crate::verify::binding::{DpopRequest, Scheme};

/// Why a request has no token to verify.
#[derive(Debug, Clone)]
pub(crate) struct NoToken {
    /// `missing_token` (or `malformed_token`), with what was found.
    pub(crate) refusal: Refusal,
    /// A bearer credential was attempted but is malformed (RFC 6750 §3.1
    /// `invalid_request`, 400): two `Authorization` headers, `Bearer` with nothing or
    /// several things after it. Otherwise there was none at all, or another scheme (a
    /// bare challenge, 401).
    pub(crate) malformed: bool,
}

/// The bearer token of a request: exactly one `Authorization` header, `Bearer <token>`
/// by RFC 6750's rules (the same reading as the authorizer's).
pub(crate) fn credential(headers: &HeaderMap, dpop: bool) -> Result<(Scheme, String), NoToken> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(NoToken {
            refusal: Refusal::new(Reason::MissingToken, "no Authorization header"),
            malformed: false,
        });
    };
    if values.next().is_some() {
        return Err(NoToken {
            refusal: Refusal::new(Reason::MissingToken, "more than one Authorization header"),
            malformed: true,
        });
    }
    let Ok(value) = value.to_str() else {
        return Err(NoToken {
            refusal: Refusal::new(
                Reason::MalformedToken,
                "the Authorization header holds bytes that are not visible ASCII",
            ),
            malformed: false,
        });
    };
    credential_from(value, dpop)
        .map(|(scheme, token)| (scheme, token.to_owned()))
        .map_err(|refusal| {
            let scheme = value.split_ascii_whitespace().next().unwrap_or_default();
            NoToken {
                refusal,
                malformed: value.trim().is_empty()
                    || scheme.eq_ignore_ascii_case("bearer")
                    || (dpop && scheme.eq_ignore_ascii_case("dpop")),
            }
        })
}

/// The request's DPoP proof and what it must have been made for: the `DPoP` header
/// (exactly one), the method, and the URL — `PUBLIC_BASE_URL` and the path relative to
/// the API when set; else `https://`, the domain AWS reports in `lambda_http`'s request
/// context (API Gateway, a Function URL) and the URI's path. Never the client's `Host`
/// header or URI authority: a proof made for another server would pass with it. Behind
/// an ALB, VPC Lattice or a plain server the URL is unknown without `PUBLIC_BASE_URL`.
pub(crate) fn dpop_request<B>(
    request: &::http::Request<B>,
    api_path: &str,
    aws_domain: Option<&str>,
    public_base_url: Option<&str>,
) -> DpopRequest {
    let mut proofs = request.headers().get_all("dpop").iter();
    let proof = match (proofs.next(), proofs.next()) {
        (None, _) => Ok(None),
        (Some(one), None) => one
            .to_str()
            .map(|p| Some(p.trim().to_owned()))
            .map_err(|_| Refusal::new(Reason::InvalidProof, "the DPoP header is not ASCII")),
        (Some(_), Some(_)) => Err(Refusal::new(
            Reason::InvalidProof,
            format!(
                "{} DPoP headers; a request carries exactly one proof",
                request.headers().get_all("dpop").iter().count()
            ),
        )),
    };
    let url = if let Some(base) = public_base_url {
        Ok(format!("{base}{api_path}"))
    } else if let Some(domain) = aws_domain.filter(|d| !d.is_empty()) {
        Ok(format!("https://{domain}{}", request.uri().path()))
    } else {
        Err(Refusal::new(
            Reason::ProofRequestMismatch,
            "no domain from AWS in the request (an ALB, VPC Lattice or a server of its own), and the client's Host header cannot be trusted to say which URL it called: set PUBLIC_BASE_URL",
        ))
    };
    DpopRequest {
        proof,
        method: request.method().as_str().to_owned(),
        url,
    }
}

/// The status a refusal answers with: 401 for the token, 403 for a permission, 503 when
/// the keys or the identity provider cannot be had (the request may succeed later), 500
/// for anything else that fails closed.
pub(crate) fn status(reason: Reason) -> StatusCode {
    match reason.outcome() {
        Outcome::Allow => StatusCode::OK,
        Outcome::Unauthorized => StatusCode::UNAUTHORIZED,
        Outcome::Deny => StatusCode::FORBIDDEN,
        Outcome::Error => match reason {
            Reason::JwksUnavailable
            | Reason::IntrospectionUnavailable
            | Reason::ReplayStoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        },
    }
}

/// A realm as a quoted-string may hold it: visible ASCII and spaces, no `"` or `\`.
pub(crate) fn clean_realm(realm: &str) -> String {
    realm
        .chars()
        .filter(|c| (' '..='~').contains(c) && !matches!(c, '"' | '\\'))
        .collect()
}

/// The `WWW-Authenticate` challenge of a refusal, if its status has one (RFC 6750 §3):
/// no error code when the request carried no bearer credential at all; `invalid_token`
/// with the reason code for a token refused; `insufficient_scope` with the scopes the
/// route needs for a scope missing.
///
/// A refused DPoP proof, or a DPoP-bound token sent as Bearer, is answered with RFC 9449
/// §7.1's `DPoP` challenge instead, naming the algorithms a proof may use (`dpop_algs`).
pub(crate) fn challenge(refused: &Refused, realm: &str, dpop_algs: Option<&str>) -> Option<String> {
    let reason = refused.refusal.reason;
    if let Some(algs) = dpop_algs {
        let error = match reason {
            Reason::MissingProof
            | Reason::InvalidProof
            | Reason::ProofRequestMismatch
            | Reason::ProofTokenMismatch
            | Reason::ProofKeyMismatch
            | Reason::ProofReplayed => Some("invalid_dpop_proof"),
            Reason::BoundTokenAsBearer => Some("invalid_token"),
            _ => None,
        };
        if let Some(error) = error {
            return Some(format!(
                "DPoP realm=\"{realm}\", error=\"{error}\", error_description=\"{}\", algs=\"{algs}\"",
                reason.code()
            ));
        }
    }
    match reason.outcome() {
        Outcome::Unauthorized if reason == Reason::MissingToken => {
            Some(format!("Bearer realm=\"{realm}\""))
        }
        Outcome::Unauthorized => Some(format!(
            "Bearer realm=\"{realm}\", error=\"invalid_token\", error_description=\"{}\"",
            reason.code()
        )),
        Outcome::Deny => {
            let mut value = format!(
                "Bearer realm=\"{realm}\", error=\"insufficient_scope\", error_description=\"{}\"",
                reason.code()
            );
            // Scope tokens are visible ASCII without `"` or `\` (RFC 6749 §3.3); any
            // other scope is left out rather than break the header.
            let scopes: Vec<&str> = refused
                .scopes
                .iter()
                .map(String::as_str)
                .filter(|s| {
                    s.bytes()
                        .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
                })
                .collect();
            if !scopes.is_empty() {
                value.push_str(", scope=\"");
                value.push_str(&scopes.join(" "));
                value.push('"');
            }
            Some(value)
        }
        Outcome::Allow | Outcome::Error => None,
    }
}

/// The body of a refusal: `{"error": "<reason code>", "message": "<the fix>"}` (the
/// general fix, never the token's own details nor the configuration's: those are in the
/// log line).
pub(crate) fn body(reason: Reason) -> String {
    serde_json::json!({
        "error": reason.code(),
        "message": match reason {
            _ if reason.outcome() == Outcome::Error => {
                "the token could not be verified now; try again later"
            }
            Reason::InsufficientScope => {
                "the token is valid but lacks a scope or permission this route needs"
            }
            _ => reason.advice(),
        },
    })
    .to_string()
}

/// A bearer credential attempted but malformed (RFC 6750 §3.1): 400 `invalid_request`.
pub(crate) fn invalid_request<R: From<String>>(refusal: &Refusal, realm: &str) -> Response<R> {
    let challenge = format!(
        "Bearer realm=\"{realm}\", error=\"invalid_request\", error_description=\"{}\"",
        refusal.reason.code()
    );
    answer(
        StatusCode::BAD_REQUEST,
        body(refusal.reason),
        Some(challenge),
    )
}

/// A path the route rules cannot judge (a `..` segment, a backslash): 400, no challenge
/// (the token is not the problem).
pub(crate) fn unjudgeable_path<R: From<String>>(refusal: &Refusal) -> Response<R> {
    let body = serde_json::json!({
        "error": refusal.reason.code(),
        "message": "the path holds a . or .. segment, a backslash or an encoded separator; send it normalised",
    });
    answer(StatusCode::BAD_REQUEST, body.to_string(), None)
}

/// The whole answer to a refused request.
pub(crate) fn response<R: From<String>>(
    refused: &Refused,
    realm: &str,
    dpop_algs: Option<&str>,
) -> Response<R> {
    let reason = refused.refusal.reason;
    answer(
        status(reason),
        body(reason),
        challenge(refused, realm, dpop_algs),
    )
}

/// Every refusal's answer: a JSON body, never stored by a cache, the challenge when there
/// is one, and `Retry-After` when the refusal is the keys' or the provider's (503).
fn answer<R: From<String>>(
    status: StatusCode,
    body: String,
    challenge: Option<String>,
) -> Response<R> {
    let mut response = Response::new(R::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        ::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    // The realm is cleaned when set and the rest is ours: the value is always valid.
    if let Some(value) = challenge.and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(WWW_AUTHENTICATE, value);
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(::http::header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(reason: Reason, scopes: &[&str]) -> Refused {
        Refused {
            refusal: Refusal::new(reason, "detail"),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    /// RFC 6750 §2.1: one `Authorization: Bearer <token>`; none, two, or another scheme
    /// is no bearer credential.
    #[test]
    fn the_credential_is_one_bearer_authorization_header() {
        assert_eq!(
            credential(&headers(&["Bearer abc.def.ghi"]), false).unwrap(),
            (Scheme::Bearer, "abc.def.ghi".to_owned())
        );
        assert_eq!(
            credential(&headers(&["bearer  abc"]), true).unwrap(),
            (Scheme::Bearer, "abc".to_owned())
        );
        // DPoP (RFC 9449 §7.1) only where some issuer checks proofs.
        assert_eq!(
            credential(&headers(&["DPoP abc"]), true).unwrap(),
            (Scheme::DPoP, "abc".to_owned())
        );
        assert!(
            !credential(&headers(&["DPoP abc"]), false)
                .unwrap_err()
                .malformed
        );
        assert!(
            credential(&headers(&["DPoP a b"]), true)
                .unwrap_err()
                .malformed
        );
        for (sent, detail, malformed) in [
            (&[][..], "no Authorization header", false),
            (
                &["Basic dXNlcjpwYXNz"][..],
                "the credential uses Basic, not Bearer",
                false,
            ),
            (
                &["eyJhbGciOi.eyJzdWIi.c2ln"][..],
                "no `Bearer ` scheme before the token",
                false,
            ),
            (
                &["Bearer a", "Bearer b"][..],
                "more than one Authorization header",
                true,
            ),
            (&["Bearer"][..], "Bearer without a token", true),
            (
                &["Bearer a b"][..],
                "more than one credential, or whitespace or control characters, after Bearer",
                true,
            ),
        ] {
            let no_token = credential(&headers(sent), false).unwrap_err();
            let refusal = &no_token.refusal;
            assert_eq!(
                (refusal.reason, refusal.detail.as_str()),
                (Reason::MissingToken, detail)
            );
            assert_eq!(no_token.malformed, malformed, "{sent:?}");
        }
        let mut map = HeaderMap::new();
        map.insert(
            AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xff").unwrap(),
        );
        assert_eq!(
            credential(&map, false).unwrap_err().refusal.reason,
            Reason::MalformedToken
        );
    }

    #[test]
    fn a_realm_keeps_only_what_a_quoted_string_may_hold() {
        assert_eq!(clean_realm("my \"api\"\\\r\nx\u{7f}é"), "my apix");
    }

    /// RFC 6750 §3: a bare challenge without a credential, `invalid_token` for a refused
    /// token, `insufficient_scope` with the needed scopes for a permission, none for 503.
    #[test]
    fn each_refusal_has_its_status_and_challenge() {
        let cases = [
            (
                Reason::MissingToken,
                &[][..],
                401,
                Some("Bearer realm=\"api\""),
            ),
            (
                Reason::Expired,
                &[][..],
                401,
                Some(
                    "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"expired\"",
                ),
            ),
            (
                Reason::InsufficientScope,
                &["read:messages", "bad\"scope"][..],
                403,
                Some(
                    "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"insufficient_scope\", scope=\"read:messages\"",
                ),
            ),
            (
                Reason::ClaimMismatch,
                &[][..],
                403,
                Some(
                    "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"claim_mismatch\"",
                ),
            ),
            (Reason::JwksUnavailable, &[][..], 503, None),
            (Reason::UnrecognisedEvent, &[][..], 500, None),
        ];
        for (reason, scopes, code, expected) in cases {
            let refused = refused(reason, scopes);
            let answer: Response<String> = response(&refused, "api", None);
            assert_eq!(answer.status().as_u16(), code, "{reason:?}");
            assert_eq!(
                answer
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .map(|v| v.to_str().unwrap()),
                expected,
                "{reason:?}"
            );
            // Only a 503 (keys or provider unreachable) invites a retry.
            assert_eq!(
                answer.headers().contains_key(::http::header::RETRY_AFTER),
                code == 503,
                "{reason:?}"
            );
            assert_eq!(answer.headers()["cache-control"], "no-store");
            let body: serde_json::Value = serde_json::from_str(answer.body()).unwrap();
            assert_eq!(body["error"], reason.code());
            assert!(
                !answer.body().contains("detail"),
                "{reason:?}: {}",
                answer.body()
            );
        }
    }
}
