//! What each identity provider's access tokens look like, so a user writes one line
//! (`IDP_PRESET=cognito`, or `"preset": "cognito"` in the document) instead of learning
//! where each IdP puts audiences, scopes and user ids. A preset only fills settings the
//! user did not set; an explicit value always wins.

use super::layers::IssuerLayer;
pub(crate) use crate::settings::Preset;

impl Preset {
    /// The settings this IdP implies. `audiences` are the configured ones (Keycloak's
    /// client roles live under the client id, which is the audience there).
    #[must_use]
    pub(crate) fn layer(self, audiences: &[String]) -> IssuerLayer {
        let list = |items: &[&str]| Some(items.iter().map(|s| (*s).to_owned()).collect());
        match self {
            Preset::Auth0 => IssuerLayer {
                scope_claims: list(&["scope", "permissions"]),
                principal_claims: list(&["sub"]),
                ..IssuerLayer::default()
            },
            Preset::Cognito => IssuerLayer {
                audience_fallback_claim: Some("client_id".to_owned()),
                scope_claims: list(&["scope", "cognito:groups"]),
                principal_claims: list(&["username", "sub"]),
                required_claims: list(&["token_use"]),
                ..IssuerLayer::default()
            },
            Preset::Okta => IssuerLayer {
                scope_claims: list(&["scp"]),
                principal_claims: list(&["uid", "sub"]),
                ..IssuerLayer::default()
            },
            Preset::Keycloak => {
                let mut scope_claims = vec!["scope".to_owned(), "/realm_access/roles".to_owned()];
                for client in audiences {
                    let escaped = client.replace('~', "~0").replace('/', "~1");
                    scope_claims.push(format!("/resource_access/{escaped}/roles"));
                }
                IssuerLayer {
                    scope_claims: Some(scope_claims),
                    principal_claims: list(&["preferred_username", "sub"]),
                    ..IssuerLayer::default()
                }
            }
            Preset::Entra => IssuerLayer {
                scope_claims: list(&["scp", "roles"]),
                principal_claims: list(&["oid", "sub"]),
                ..IssuerLayer::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keycloak_client_roles_follow_the_audience() {
        let layer = Preset::Keycloak.layer(&["web-app".to_owned(), "a/b".to_owned()]);
        assert_eq!(
            layer.scope_claims.unwrap(),
            vec![
                "scope",
                "/realm_access/roles",
                "/resource_access/web-app/roles",
                "/resource_access/a~1b/roles"
            ]
        );
    }
}
