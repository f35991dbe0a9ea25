//! Cedar policies evaluated in the authorizer: where the policy set and its schema come
//! from, and how a token's claims become Cedar entities. Plain data; the set is parsed and
//! validated against its schema when the authorizer is built (`crate::decision::cedar`).

use std::path::PathBuf;

/// Default for the claim whose values are the principal's groups (`CEDAR_GROUP_CLAIM`):
/// Cognito's, as Verified Permissions reads it for an API-linked policy store.
pub const DEFAULT_GROUP_CLAIM: &str = "cognito:groups";

/// A policy set or a schema: inline text, or a file read when the authorizer is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CedarText {
    /// The text itself (a document's `authorization.cedar`).
    Inline(String),
    /// A file (`CEDAR_POLICIES_FILE`, `CEDAR_SCHEMA_FILE`), for local runs and tests.
    File(PathBuf),
}

/// The Cedar settings: a policy set, its schema, and the entities' shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CedarSettings {
    /// Where they came from, for error lines (`authorization.cedar of CONFIG_PARAMETER /x`).
    pub origin: String,
    /// The policies, in Cedar's policy syntax; each policy's id is its `@id("…")`
    /// annotation, else `policy0`, `policy1`, … in order.
    pub policies: CedarText,
    /// The schema, in Cedar's schema syntax or its JSON form (text starting with `{`).
    pub schema: CedarText,
    /// The claim (a name or a JSON Pointer) whose string values are the principal's
    /// `UserGroup` parents (`CEDAR_GROUP_CLAIM`, default `cognito:groups`).
    pub group_claim: String,
    /// The schema namespace of the entity types (`CEDAR_NAMESPACE`); `None`: the
    /// schema's one namespace.
    pub namespace: Option<String>,
    /// The seal `token-verifier check-config` printed after it validated this exact
    /// policy set and schema (`CEDAR_SEAL`, `authorization.cedar.seal`): when it is the
    /// seal of the texts read, init parses them without validating them again; any
    /// other seal (the texts changed, another version) and they are validated as always.
    pub seal: Option<String>,
}
