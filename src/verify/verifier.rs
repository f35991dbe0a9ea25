//! Token → verified claims, or a [`Refusal`] naming exactly why not.
//!
//! The order is fixed and cheap checks come first: size and framing, header, issuer
//! routing by `iss` (before any key is looked up, so an unknown issuer causes no network
//! request), algorithm allow-list, key selection, signature, then the claims.

use crate::keys::{KeyCache, KeyError, Refetch};
use crate::refusal::{Reason, Refusal, sanitize};
use crate::settings::{Algorithm, IssuerSettings, Setting};
use crate::token::{self, Claims, UnixTime};

use super::advice::{tailor, tailor_unrouted};
use super::checks::{LOG_VALUE_CHARS, check_claims, loggable, opaque_claim_checks, principal};
use super::facts::TokenFacts;
use super::header::{allowed_algorithm, check_signature, check_token_type, key_refusal};
use super::opaque::OpaqueValidator;

/// One trusted issuer: its rules and its keys.
#[derive(Debug)]
pub struct Issuer {
    /// Its configuration.
    pub config: IssuerSettings,
    /// Its key cache; never shared with another issuer (but kept across reloads).
    pub keys: std::sync::Arc<KeyCache>,
}

/// Routes tokens to their issuer and verifies them.
#[derive(Debug)]
pub struct Verifier {
    issuers: Vec<Issuer>,
    max_token_bytes: usize,
    opaque: Option<Opaque>,
}

/// The one issuer whose opaque tokens are validated by asking its identity provider.
#[derive(Debug)]
pub struct Opaque {
    /// Index of the issuer.
    pub issuer: usize,
    /// Its validator.
    pub validator: OpaqueValidator,
}

/// A token that passed every check.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Its claims.
    pub claims: Claims,
    /// The principal id (first present claim of the chain).
    pub principal: String,
    /// Index of its issuer in the verifier.
    pub issuer: usize,
    /// The algorithm it was signed with (`None`: an opaque token its provider vouched for).
    pub alg: Option<Algorithm>,
}

impl Verifier {
    /// A verifier over these issuers.
    #[must_use]
    pub fn new(issuers: Vec<Issuer>, max_token_bytes: usize) -> Self {
        Verifier {
            issuers,
            max_token_bytes,
            opaque: None,
        }
    }

    /// Validates opaque tokens through the identity provider of `issuer`.
    #[must_use]
    pub fn with_opaque(mut self, opaque: Opaque) -> Self {
        self.opaque = Some(opaque);
        self
    }

    /// The opaque-token validation, if configured.
    #[must_use]
    pub fn opaque(&self) -> Option<&Opaque> {
        self.opaque.as_ref()
    }

    /// `MAX_TOKEN_BYTES`.
    #[must_use]
    pub fn max_token_bytes(&self) -> usize {
        self.max_token_bytes
    }

    /// The issuers, in configuration order.
    #[must_use]
    pub fn issuers(&self) -> &[Issuer] {
        &self.issuers
    }

    /// Verifies `token` at time `now`, filling `facts` for the log line as it goes.
    ///
    /// # Errors
    /// A [`Refusal`] for the first check that fails.
    pub async fn verify(
        &self,
        token: &str,
        now: UnixTime,
        facts: &mut TokenFacts,
    ) -> Result<Verified, Refusal> {
        let jws = match token::parse(token, self.max_token_bytes) {
            Ok(jws) => jws,
            Err(refusal) if goes_to_provider(&refusal, token) && self.opaque.is_some() => {
                return self.verify_opaque(token, now, facts).await;
            }
            Err(refusal) => return Err(self.advising_unrouted(refusal)),
        };
        facts.alg = Some(sanitize(&jws.header.alg, 32));
        facts.kid = jws.header.kid.as_deref().map(|k| sanitize(k, 64));
        facts.typ = jws.header.typ.as_deref().map(|t| sanitize(t, 32));
        facts.iss = jws.claims.get("iss").map(loggable);
        facts.aud = jws.claims.get("aud").map(loggable);
        facts.sub = jws.claims.get("sub").map(loggable);

        let index = self
            .route(&jws.claims)
            .map_err(|r| self.advising_unrouted(r))?;
        self.verify_routed(index, jws, now, facts)
            .await
            .map_err(|refusal| tailor(refusal, &self.issuers[index].config))
    }

    /// The checks of a token routed to the issuer at `index`.
    async fn verify_routed(
        &self,
        index: usize,
        jws: token::Jws<'_>,
        now: UnixTime,
        facts: &mut TokenFacts,
    ) -> Result<Verified, Refusal> {
        let issuer = &self.issuers[index];
        let policy = &issuer.config;
        let alg = allowed_algorithm(&jws.header.alg, policy)?;
        check_token_type(&jws.header, &jws.claims, policy)?;

        let kid = jws.header.kid.as_deref();
        let hit = issuer.keys.key(kid, alg).await.map_err(|e| {
            facts.cooled_down = e == KeyError::Unknown(Refetch::CoolingDown);
            key_refusal(e, kid, alg, &issuer.keys)
        })?;
        facts.key_origin = Some(hit.origin);
        check_signature(&hit.key, alg, &jws)?;

        check_claims(&jws.claims, policy, now)?;
        let principal = principal(&jws.claims, policy)?;
        Ok(Verified {
            claims: jws.claims,
            principal,
            issuer: index,
            alg: Some(alg),
        })
    }

    /// An opaque token: the configured issuer's identity provider vouches for it (or
    /// not), then its answer's claims are checked like a token's.
    async fn verify_opaque(
        &self,
        token: &str,
        now: UnixTime,
        facts: &mut TokenFacts,
    ) -> Result<Verified, Refusal> {
        let Some(opaque) = &self.opaque else {
            return Err(Refusal::new(
                Reason::OpaqueToken,
                "no opaque-token validation",
            ));
        };
        facts.opaque = Some(opaque.validator.mode().as_str());
        let (answer, lookup) = opaque.validator.validate(token, now).await;
        facts.opaque_lookup = Some(lookup);
        let policy = &self.issuers[opaque.issuer].config;
        self.check_answer(answer, opaque.issuer, now, facts)
            .map_err(|refusal| tailor(refusal, policy))
    }

    /// The identity provider's answer about an opaque token, checked like a token's claims.
    fn check_answer(
        &self,
        answer: Result<Claims, Refusal>,
        index: usize,
        now: UnixTime,
        facts: &mut TokenFacts,
    ) -> Result<Verified, Refusal> {
        let claims = answer?;
        facts.iss = claims.get("iss").map(loggable);
        facts.aud = claims.get("aud").map(loggable);
        facts.sub = claims.get("sub").map(loggable);
        let policy = &self.issuers[index].config;
        for (_, check) in opaque_claim_checks(&claims) {
            check(&claims, policy, now)?;
        }
        let principal = principal(&claims, policy)?;
        Ok(Verified {
            claims,
            principal,
            issuer: index,
            alg: None,
        })
    }

    /// A refusal before the token's issuer is known, advising in the terms of the issuers
    /// there are (see [`tailor_unrouted`]).
    #[must_use]
    pub(crate) fn advising_unrouted(&self, refusal: Refusal) -> Refusal {
        let issuers: Vec<&IssuerSettings> = self.issuers.iter().map(|i| &i.config).collect();
        tailor_unrouted(refusal, &issuers)
    }

    /// Finds the issuer whose `iss` is exactly the token's.
    ///
    /// # Errors
    /// `missing_claim`, `invalid_claim` or `wrong_issuer` (naming a trailing-slash near miss).
    pub fn route(&self, claims: &Claims) -> Result<usize, Refusal> {
        let iss = match claims.get("iss") {
            Some(iss) => iss.as_str().ok_or_else(|| {
                Refusal::new(
                    Reason::InvalidClaim,
                    format!("iss is {}, not a string", iss.kind().name()),
                )
            })?,
            None => return Err(Refusal::new(Reason::MissingClaim, "the token has no iss")),
        };
        if let Some(index) = self.issuers.iter().position(|i| i.config.issuer == *iss) {
            return Ok(index);
        }
        let expected: Vec<&str> = self
            .issuers
            .iter()
            .map(|i| i.config.issuer.as_str())
            .collect();
        let near = self
            .issuers
            .iter()
            .find(|i| i.config.issuer.trim_end_matches('/') == iss.trim_end_matches('/'));
        let detail = match near {
            Some(near) => format!(
                "iss is {} but {name} is {}: they differ only by a trailing slash; set {name} to exactly the token's iss",
                sanitize(&iss, LOG_VALUE_CHARS),
                near.config.issuer,
                name = near.config.name(Setting::Issuer),
            ),
            None => format!(
                "iss is {}, expected {}",
                sanitize(&iss, LOG_VALUE_CHARS),
                expected.join(" or ")
            ),
        };
        Err(Refusal::new(Reason::WrongIssuer, detail))
    }
}

/// Whether a token refused at framing is one the identity provider can vouch for: an
/// opaque string, or a JWE (Auth0's tokens issued without an audience) only it decrypts.
#[must_use]
pub(crate) fn goes_to_provider(refusal: &Refusal, token: &str) -> bool {
    match refusal.reason {
        // Only token characters reach this reason.
        Reason::OpaqueToken => true,
        // Five segments are a JWE only in base64url: anything else is not sent.
        Reason::EncryptedToken => token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
        _ => false,
    }
}
