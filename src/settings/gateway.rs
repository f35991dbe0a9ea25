//! How the API Gateway front door finds the token in an event and shapes its answer.

/// Default for `TOKEN_HEADER`.
pub const DEFAULT_TOKEN_HEADER: &str = "Authorization";

/// Default for `CONTEXT_MAX_BYTES`: 4 KiB of claims in the authorizer context. WebSocket
/// authorizer results are capped at 8 KB and every byte is copied to each integration.
pub const DEFAULT_CONTEXT_MAX_BYTES: usize = 4096;

/// Default for `APPSYNC_TTL_SECONDS`: how long AppSync may reuse an answer (never past the
/// token's `exp`). Every answer carries it as `ttlOverride`, which replaces the API's own
/// `authorizerResultTtlInSeconds` (0 unless set): 300 s, as the template's API Gateway
/// result cache; 0 turns AppSync's cache off.
pub const DEFAULT_APPSYNC_TTL_SECONDS: u32 = 300;

/// AppSync's upper bound on a cached authorizer answer.
pub const MAX_APPSYNC_TTL_SECONDS: u32 = 3600;

/// HTTP API answer shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpApiResponse {
    /// `{isAuthorized, context}` (payload 2.0 with simple responses enabled).
    Simple,
    /// An IAM policy.
    Policy,
}

/// What an Allow policy covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyResource {
    /// Every route of the stage (`{api}/{stage}/*`): correct under result caching.
    Stage,
    /// Every stage and route of the API (`{api}/*`).
    Api,
    /// Only the called route: correct only with result caching off.
    Route,
}

/// Which claims reach the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextSettings {
    /// `None`: every claim; otherwise only these.
    pub claims: Option<Vec<String>>,
    /// Upper bound of the serialised context.
    pub max_bytes: usize,
}

/// Event and answer settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewaySettings {
    /// Header holding `Bearer <token>` in REQUEST and HTTP API events.
    pub token_header: String,
    /// Query-string parameter holding the bare token (WebSocket `$connect`), if any.
    pub token_query: Option<String>,
    /// HTTP API 2.0 answer shape.
    pub http_api_response: HttpApiResponse,
    /// Allow/Deny policy resource scope.
    pub policy_resource: PolicyResource,
    /// Claims in the context.
    pub context: ContextSettings,
    /// AppSync answers' `ttlOverride` bound, seconds (the token's `exp` bounds it too).
    pub appsync_ttl: u32,
    /// Whether events' client certificates are read (some issuer checks bindings:
    /// `SENDER_CONSTRAINT`); when not, the request context is not searched for one.
    pub client_certs: bool,
    /// Whether `Authorization: DPoP` and the `DPoP` header are read (some issuer checks
    /// bindings); when not, the DPoP scheme is refused as no bearer token.
    pub dpop: bool,
    /// Whether the caller's source IP is read from events (Cedar policies are configured:
    /// `context.sourceIp`).
    pub source_ip: bool,
    /// The URL clients call for the stage's root (`PUBLIC_BASE_URL`), when the event
    /// cannot tell it (an HTTP API custom domain with an API mapping key, a proxy or CDN
    /// in front): a DPoP proof's `htu` is this and the route's path.
    pub public_base_url: Option<String>,
}
