//! One issuer as a source (the environment, or a document's entry) describes it, and
//! the final settings it makes once its preset and the environment's defaults fill in.

use super::layers::IssuerLayer;
use super::parse::split_list;
use super::presets::Preset;
use crate::settings::issuer::{
    DEFAULT_ALGORITHMS, DEFAULT_LEEWAY, DEFAULT_PRINCIPAL_CLAIMS, DEFAULT_SCOPE_CLAIMS,
    DEFAULT_TOKEN_TYPES,
};
use crate::settings::{
    IssuerSettings, IssuerSource, KeySource, OpaqueSettings, ScopeMatch, TokenTypes,
};

/// One issuer as a source describes it, before layering.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuerSpec {
    /// The exact `iss`.
    pub issuer: String,
    /// Accepted audiences.
    pub audiences: Vec<String>,
    /// Where its keys come from.
    pub keys: KeySource,
    /// Its identity provider, if named.
    pub preset: Option<Preset>,
    /// What this source sets explicitly.
    pub layer: IssuerLayer,
    /// Opaque-token validation, if asked for.
    pub opaque: Option<OpaqueSettings>,
    /// Where it is written (the environment, or a document's issuer entry).
    pub source: IssuerSource,
}

impl IssuerSpec {
    /// The final issuer configuration: this spec's settings, then the preset's, then
    /// `defaults` (the environment), then the built-in defaults.
    #[must_use]
    pub fn build(self, defaults: &IssuerLayer) -> IssuerSettings {
        let preset = self
            .preset
            .map(|p| p.layer(&self.audiences))
            .unwrap_or_default();
        let layer = self.layer.or(preset).or(defaults.clone());
        let strings = |items: &str| split_list(items);
        IssuerSettings {
            issuer: self.issuer,
            audiences: self.audiences,
            audience_fallback_claim: layer.audience_fallback_claim,
            keys: self.keys,
            algorithms: layer
                .algorithms
                .unwrap_or_else(|| DEFAULT_ALGORITHMS.to_vec()),
            leeway: layer.leeway.unwrap_or(DEFAULT_LEEWAY),
            token_types: TokenTypes {
                allowed: layer
                    .token_types
                    .unwrap_or_else(|| strings(DEFAULT_TOKEN_TYPES))
                    .iter()
                    .map(|t| TokenTypes::normalise(t))
                    .collect(),
                required: layer.require_token_type.unwrap_or(false),
            },
            principal_claims: layer
                .principal_claims
                .unwrap_or_else(|| strings(DEFAULT_PRINCIPAL_CLAIMS)),
            required_scopes: layer.required_scopes.unwrap_or_default(),
            scope_match: layer.scope_match.unwrap_or(ScopeMatch::All),
            scope_claims: layer
                .scope_claims
                .unwrap_or_else(|| strings(DEFAULT_SCOPE_CLAIMS)),
            required_claims: layer.required_claims.unwrap_or_default(),
            max_token_age: layer.max_token_age,
            sender_constraint: layer.sender_constraint.unwrap_or_default(),
            opaque: self.opaque,
            preset: self.preset,
            source: self.source,
        }
    }
}
