//! The tower layer's way in (feature `tower`): one HTTP request's method, path and
//! credential decided like an event, with no policy to build — the route judged on its
//! own — and logged like one.

use std::time::Instant;

use super::{Authorizer, DecisionRecord, bind, log, verify};
use crate::decision::CalledRoute;
use crate::decision::scopes::granted_scopes;
use crate::refusal::{Outcome, Reason, Refusal};
use crate::token::UnixTime;
use crate::verify::binding;

impl Authorizer {
    /// Decides one HTTP request of a front door that is not an API Gateway authorizer
    /// (the tower layer): the token, then the issuer's scopes and the route rules for
    /// the request's own method and path. Logged like [`Authorizer::handle`].
    pub(crate) async fn admit(&self, call: Call<'_>) -> Result<Admitted, Refused> {
        let started = Instant::now();
        let (result, record) = self.decide_call(call, crate::token::now()).await;
        log(&record, started);
        result
    }

    /// [`Authorizer::admit`] at time `now`, without logging.
    pub(crate) async fn decide_call(
        &self,
        call: Call<'_>,
        now: UnixTime,
    ) -> (Result<Admitted, Refused>, DecisionRecord) {
        let mut record = DecisionRecord::new();
        record.shape = Some(call.shape);
        let refused = |refusal: Refusal, mut record: DecisionRecord| {
            record.outcome = refusal.reason.outcome();
            record.refusal = Some(refusal.clone());
            (
                Err(Refused {
                    refusal,
                    scopes: Vec::new(),
                }),
                record,
            )
        };
        let token = match call.credential {
            Ok(token) => token,
            Err(refusal) => return refused(refusal, record),
        };
        let active = self.active().await;
        let verified = match verify(&active, token, now, &mut record).await {
            Ok(verified) => verified,
            Err(refusal) => return refused(refusal, record),
        };
        let policy = &active.verifier.issuers()[verified.issuer].config;
        // No client certificate reaches a tower service: a certificate-bound token is
        // refused here unless SENDER_CONSTRAINT is off.
        let presented = binding::Presented {
            token,
            scheme: call.scheme,
            client_cert: None,
            dpop: call.dpop.as_ref(),
        };
        if let Err(refusal) = bind(&active, policy, &verified.claims, presented, now).await {
            return refused(refusal, record);
        }
        if let Some(problem) = call.path_problem {
            let refusal = Refusal::new(
                Reason::RouteNotAllowed,
                format!("{problem}: refused rather than judged as another route than the router's"),
            );
            return refused(refusal, record);
        }
        // A HEAD request runs the GET handler (axum, most routers): it must meet the GET
        // route's rules as well as its own.
        let mut routes = vec![CalledRoute::from_request(call.method, call.path)];
        if call.method == "HEAD" {
            routes.push(CalledRoute::from_request("GET", call.path));
        }
        for route in &routes {
            let (verdict, cedar) = active.verdict(route, &verified.claims, policy);
            if cedar.is_some() {
                record.cedar = cedar;
            }
            if let Err(refusal) = verdict {
                let scopes = if refusal.reason == Reason::InsufficientScope {
                    active.scopes_needed(route, policy)
                } else {
                    Vec::new()
                };
                let (result, record) = refused(refusal, record);
                return (
                    result.map_err(|refused| Refused { scopes, ..refused }),
                    record,
                );
            }
        }
        record.outcome = Outcome::Allow;
        let scopes = granted_scopes(&verified.claims, &policy.scope_claims);
        (
            Ok(Admitted {
                principal: verified.principal,
                issuer: policy.issuer.clone(),
                scopes,
                claims: verified.claims,
            }),
            record,
        )
    }
}

/// One request of a front door without API Gateway's authorizer (the tower layer).
#[derive(Debug)]
pub(crate) struct Call<'a> {
    /// The HTTP method, as the request line has it (`GET`).
    pub(crate) method: &'a str,
    /// The path relative to the API (no stage), as the router sees it.
    pub(crate) path: &'a str,
    /// Why the path cannot be judged, if it cannot (a `..` segment, a backslash): then the
    /// request is refused once its token is verified (`route_not_allowed`).
    pub(crate) path_problem: Option<&'static str>,
    /// The token, or why there is none.
    pub(crate) credential: Result<&'a str, Refusal>,
    /// How the token came (`Bearer`, `DPoP`).
    pub(crate) scheme: binding::Scheme,
    /// The DPoP proof and the URL it must name, when some issuer checks bindings.
    pub(crate) dpop: Option<binding::DpopRequest>,
    /// The front door, for the log line (`function_url`, `alb`, `http`, ...).
    pub(crate) shape: &'static str,
}

/// A request let through: the verified token and what it grants.
#[derive(Debug)]
pub(crate) struct Admitted {
    pub(crate) principal: String,
    pub(crate) issuer: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) claims: crate::token::Claims,
}

/// A request refused, with the scopes the route needs when the token lacks a scope (for a
/// 403's `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`).
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) refusal: Refusal,
    pub(crate) scopes: Vec<String>,
}
