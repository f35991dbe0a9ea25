//! The identity providers token-verifier knows: what their tokens look like, so a preset
//! can fill in where each puts audiences, scopes and user ids (`config`), and how a
//! refusal's fix is worded in each one's own terms (`verify`).

/// A known identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Auth0: `aud` is an array (API + `/userinfo`), RBAC in `permissions`, namespaced
    /// custom claims, issuer ends with `/`.
    Auth0,
    /// Amazon Cognito user pools: access tokens have `client_id` and no `aud`,
    /// `token_use: access`, groups in `cognito:groups`, the user in `username`.
    Cognito,
    /// Okta: scopes in the `scp` array, client in `cid`, user id in `uid`.
    Okta,
    /// Keycloak: realm roles in `realm_access.roles`, client roles in
    /// `resource_access.{client}.roles`, the user in `preferred_username`. Its access
    /// tokens carry your API in `aud` only with an audience mapper (see the README).
    Keycloak,
    /// Microsoft Entra ID (v1 and v2 tokens): delegated scopes in `scp` (space-separated),
    /// application permissions in `roles`, the user's object id in `oid`.
    Entra,
}

impl Preset {
    /// Every preset with its name.
    pub const ALL: [(&'static str, Preset); 5] = [
        ("auth0", Preset::Auth0),
        ("cognito", Preset::Cognito),
        ("okta", Preset::Okta),
        ("keycloak", Preset::Keycloak),
        ("entra", Preset::Entra),
    ];

    /// Its name, as `IDP_PRESET` and a document's `preset` spell it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("", |(name, _)| name)
    }

    /// The preset named `name` (`entra-id` and `azure-ad` also name Entra ID).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "entra-id" | "entraid" | "azure-ad" | "azuread" => Some(Preset::Entra),
            _ => Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, p)| *p),
        }
    }

    /// A warning when the issuer does not look like this IdP's (typos cost hours).
    #[must_use]
    pub fn check_issuer(self, issuer: &str) -> Option<String> {
        let ok = match self {
            Preset::Auth0 => issuer.ends_with('/'),
            Preset::Cognito => issuer.starts_with("https://cognito-idp.") && !issuer.ends_with('/'),
            Preset::Okta => !issuer.ends_with('/'),
            Preset::Keycloak => issuer.contains("/realms/") && !issuer.ends_with('/'),
            Preset::Entra => {
                (issuer.starts_with("https://login.microsoftonline.com/")
                    && issuer.ends_with("/v2.0"))
                    || (issuer.starts_with("https://sts.windows.net/") && issuer.ends_with('/'))
            }
        };
        (!ok).then(|| {
            let expected = match self {
                Preset::Auth0 => "https://{tenant}.{region}.auth0.com/ (with the trailing slash)",
                Preset::Cognito => "https://cognito-idp.{region}.amazonaws.com/{userPoolId} (no trailing slash)",
                Preset::Okta => "https://{org}.okta.com/oauth2/{authServerId} (no trailing slash)",
                Preset::Keycloak => "https://{host}/realms/{realm} (no trailing slash)",
                Preset::Entra => "https://login.microsoftonline.com/{tenant}/v2.0 (v2 tokens) or https://sts.windows.net/{tenant}/ (v1 tokens)",
            };
            format!("issuer {issuer} does not look like this IdP's; its tokens carry {expected}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases() {
        assert_eq!(Preset::parse("Cognito"), Some(Preset::Cognito));
        assert_eq!(Preset::parse("azure-ad"), Some(Preset::Entra));
        assert_eq!(Preset::parse("ping"), None);
    }

    #[test]
    fn issuer_shapes_are_checked() {
        assert!(
            Preset::Auth0
                .check_issuer("https://acme.us.auth0.com/")
                .is_none()
        );
        assert!(
            Preset::Auth0
                .check_issuer("https://acme.us.auth0.com")
                .is_some()
        );
        assert!(
            Preset::Cognito
                .check_issuer("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab")
                .is_none()
        );
        assert!(
            Preset::Entra
                .check_issuer("https://sts.windows.net/t/")
                .is_none()
        );
        assert!(
            Preset::Entra
                .check_issuer("https://login.microsoftonline.com/t/v2.0")
                .is_none()
        );
        assert!(
            Preset::Entra
                .check_issuer("https://login.microsoftonline.com/t/")
                .is_some()
        );
    }
}
