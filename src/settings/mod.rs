//! The validated settings every part of the verifier reads, and their defaults: a leaf,
//! so nothing on the request path imports the configuration loader (`config`), which
//! builds these from the environment, a document and presets.
//!
//! Every type here is plain data, checked once when it is built; every default is a named
//! constant whose doc comment says its value and why.

pub mod algorithm;
pub mod cedar;
pub mod dpop;
pub mod gateway;
pub mod http;
pub mod issuer;
pub mod keys;
pub mod metrics;
pub mod opaque;
pub mod preset;
pub mod routes;

pub use algorithm::{Algorithm, AlgorithmNameError, KeyType};
pub use cedar::{CedarSettings, CedarText};
pub use dpop::DpopSettings;
pub use gateway::{ContextSettings, GatewaySettings, HttpApiResponse, PolicyResource};
pub use http::{ClientAuth, HttpSettings, TlsRoots};
pub use issuer::{
    IssuerSettings, IssuerSource, KeySource, ScopeMatch, SenderConstraint, Setting, TokenTypes,
};
pub use keys::CacheSettings;
pub use metrics::MetricsSettings;
pub use opaque::{OpaqueAudience, OpaqueMode, OpaqueSettings};
pub use preset::Preset;
pub use routes::{
    ClaimCondition, DefaultRoute, Expected, RoutePattern, RouteRule, RouteRules, RuleError,
};
