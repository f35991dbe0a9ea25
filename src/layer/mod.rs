//! Another front door: the same verifier as a [`tower`](https://docs.rs/tower) layer, for
//! APIs that have no authorizer hook — a `lambda_http` function behind a Function URL, an
//! ALB, VPC Lattice or an API Gateway proxy integration, and any axum or hyper server.
//!
//! [`VerifyLayer`] wraps a service; each request's `Authorization: Bearer` token is
//! verified by the one [`Authorizer`] of the process (its key caches, HTTP client and
//! opaque-token cache shared by every clone of the layer), the issuer's required scopes
//! and the route rules judged for the request's own method and path, and then:
//!
//! - **allowed**: the request goes on with a [`Verified`] in its extensions (the
//!   principal, the granted scopes, every claim; with the `axum` feature, an extractor);
//! - **refused** (RFC 6750): `401` with `WWW-Authenticate: Bearer realm="…",
//!   error="invalid_token", error_description="<reason code>"`, or a bare `Bearer
//!   realm="…"` challenge when the request carries no bearer credential; `403` with
//!   `error="insufficient_scope"` and the `scope` the route needs; `503` when the keys or
//!   the identity provider cannot be reached (fail closed). The body is a small JSON
//!   object with the reason code; never the token.
//!
//! Each decision writes the same log line and metric line as the authorizer, with the
//! front door as its `shape`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use token_verifier::layer::{Verified, VerifyLayer};
//! use tower::{ServiceBuilder, service_fn};
//!
//! let layer = VerifyLayer::from_env().await?; // the authorizer's configuration, keys prefetched
//! let service = ServiceBuilder::new().layer(layer).service(service_fn(
//!     |request: http::Request<String>| async move {
//!         let caller = request.extensions().get::<Verified>().map(Verified::principal);
//!         Ok::<_, std::convert::Infallible>(http::Response::new(format!("hello {caller:?}")))
//!     },
//! ));
//! # drop(service); Ok(()) }
//! ```

use std::sync::Arc;
use std::task::{Context, Poll};

use ::http::{Request, Response};

use crate::authorizer::Authorizer;
use crate::authorizer::call::Call;
use crate::config::EnvConfig;
use crate::http::BoxFuture;
use crate::refusal::Reason;
use crate::verify::binding::Scheme;

mod challenge;
mod path;
mod verified;

pub use path::api_path;
#[cfg(feature = "axum")]
pub use verified::NotVerified;
pub use verified::Verified;

/// The realm of the challenges when none is set.
const DEFAULT_REALM: &str = "api";

/// A [`tower_layer::Layer`] that verifies each request's bearer token before the service
/// it wraps sees the request. Cheap to clone: every clone shares one [`Authorizer`].
#[derive(Clone, Debug)]
pub struct VerifyLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    authorizer: Arc<Authorizer>,
    realm: String,
}

impl VerifyLayer {
    /// A layer deciding with `authorizer` (built once per process: share it with
    /// anything else that verifies tokens).
    #[must_use]
    pub fn new(authorizer: Arc<Authorizer>) -> Self {
        VerifyLayer {
            shared: Arc::new(Shared {
                authorizer,
                realm: DEFAULT_REALM.to_owned(),
            }),
        }
    }

    /// A layer built as the authorizer function builds itself: the environment, the SSM
    /// configuration document when `CONFIG_PARAMETER` is set, presets, route rules; the
    /// metric lines turned on as `METRICS` says; the issuers' keys fetched before it
    /// returns. (Logging is the caller's: [`crate::init_logging`], or a subscriber of
    /// its own.)
    ///
    /// # Errors
    /// [`crate::InitError`], as the authorizer's init would fail.
    pub async fn from_env() -> Result<Self, crate::InitError> {
        let env = EnvConfig::from_lookup(|name| std::env::var(name).ok())?;
        let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok();
        crate::init_metrics(env.metrics(), level.as_deref());
        let authorizer = Authorizer::start(env).await?;
        Ok(Self::new(Arc::new(authorizer)))
    }

    /// The `realm` of the `WWW-Authenticate` challenges (default `api`). Only visible
    /// ASCII and spaces are kept, without quotes and backslashes.
    #[must_use]
    pub fn realm(self, realm: &str) -> Self {
        VerifyLayer {
            shared: Arc::new(Shared {
                authorizer: Arc::clone(&self.shared.authorizer),
                realm: challenge::clean_realm(realm),
            }),
        }
    }

    /// The authorizer this layer decides with.
    #[must_use]
    pub fn authorizer(&self) -> &Arc<Authorizer> {
        &self.shared.authorizer
    }
}

impl<S> tower_layer::Layer<S> for VerifyLayer {
    type Service = Verify<S>;

    fn layer(&self, inner: S) -> Verify<S> {
        Verify {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service [`VerifyLayer`] makes: verifies, then calls `S` with a [`Verified`] in the
/// request's extensions, or answers the refusal itself.
#[derive(Clone, Debug)]
pub struct Verify<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S, B, R> tower_service::Service<Request<B>> for Verify<S>
where
    S: tower_service::Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    R: From<String>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The service that was polled ready serves this request; a clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        let route = path::route(&request);
        let path_problem = path::suspicious(&route.path);
        let active = shared.authorizer.current();
        let dpop_on = active.gateway.dpop;
        let credential = challenge::credential(request.headers(), dpop_on);
        let malformed = credential.as_ref().is_err_and(|no| no.malformed);
        let method = request.method().as_str().to_owned();
        let dpop = dpop_on.then(|| {
            challenge::dpop_request(
                &request,
                &route.path,
                route.domain.as_deref(),
                active.gateway.public_base_url.as_deref(),
            )
        });
        Box::pin(async move {
            let (scheme, token) = match &credential {
                Ok((scheme, token)) => (*scheme, Ok(token.as_str())),
                Err(no_token) => (Scheme::Bearer, Err(no_token.refusal.clone())),
            };
            let call = Call {
                method: &method,
                path: &route.path,
                path_problem,
                credential: token,
                scheme,
                dpop,
                shape: route.shape,
            };
            match shared.authorizer.admit(call).await {
                Ok(admitted) => {
                    request.extensions_mut().insert(Verified::from(admitted));
                    inner.call(request).await
                }
                Err(refused) if malformed => {
                    Ok(challenge::invalid_request(&refused.refusal, &shared.realm))
                }
                Err(refused)
                    if path_problem.is_some()
                        && refused.refusal.reason == Reason::RouteNotAllowed =>
                {
                    Ok(challenge::unjudgeable_path(&refused.refusal))
                }
                Err(refused) => Ok(challenge::response(
                    &refused,
                    &shared.realm,
                    // The algorithms a proof may use, for a DPoP challenge (RFC 9449 §7.1).
                    dpop_on.then_some(active.dpop_algs.as_str()),
                )),
            }
        })
    }
}
