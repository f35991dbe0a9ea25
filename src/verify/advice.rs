//! The fix a refusal advises, in the terms of the caller's own setup: the identity provider
//! the issuer's preset names (Cognito has no audience to request; Keycloak needs an
//! Audience mapper; Entra ID's v1 and v2 tokens differ), and the configuration the issuer
//! came from (a document's `issuers[1].audiences`, not the variable `AUDIENCE`). Without a
//! preset and from the environment, the reason's general advice stands.

use std::borrow::Cow;

use crate::refusal::{Reason, Refusal};
use crate::settings::{IssuerSettings, IssuerSource, Preset, Setting};

/// `refusal`, advising in the terms of `issuer` when they differ from the general ones.
#[must_use]
pub(crate) fn tailor(refusal: Refusal, issuer: &IssuerSettings) -> Refusal {
    match advice(refusal.reason, issuer) {
        Some(advice) => refusal.advising(advice),
        None => refusal,
    }
}

/// The fix for `reason` in the terms of `issuer`, when they differ from the general one.
#[must_use]
pub(crate) fn advice(reason: Reason, issuer: &IssuerSettings) -> Option<Cow<'static, str>> {
    issuer
        .preset
        .and_then(|preset| preset_advice(preset, reason, issuer))
        .or_else(|| source_advice(reason, issuer))
}

/// What each identity provider's users must do, in its own words.
fn preset_advice(
    preset: Preset,
    reason: Reason,
    issuer: &IssuerSettings,
) -> Option<Cow<'static, str>> {
    let audiences = issuer.name(Setting::Audiences);
    let text: Cow<'static, str> = match (preset, reason) {
        (Preset::Auth0, Reason::WrongAudience) => format!(
            "the token's aud does not name this API: request the access token with your API's identifier as audience (Auth0 Dashboard: Applications > APIs > Identifier; auth0-spa-js: authorizationParams.audience), or add its audience to {audiences}"
        )
        .into(),
        (Preset::Auth0, Reason::IdToken) => "this is an Auth0 ID token (it tells the app who signed in): send the access token instead, requested with your API's identifier as audience (auth0-spa-js: getTokenSilently with authorizationParams.audience)".into(),
        (Preset::Auth0, Reason::OpaqueToken) => "this is an opaque Auth0 access token, which Auth0 issues when the app asks for no audience (only Auth0's own /userinfo accepts it): request the access token with your API's identifier as audience (auth0-spa-js: authorizationParams.audience)".into(),
        (Preset::Auth0, Reason::EncryptedToken) => "this is an encrypted Auth0 access token (a JWE), which Auth0 issues when the app asks for no audience: request the access token with your API's identifier as audience (auth0-spa-js: authorizationParams.audience)".into(),
        (Preset::Cognito, Reason::WrongAudience) => format!(
            "Cognito access tokens carry no audience to request, only the app client id in client_id: send the access token of an app client this API accepts, or add that client's id to {audiences}"
        )
        .into(),
        (Preset::Cognito, Reason::IdToken) => "this is a Cognito ID token (token_use: id): send the access token of the same sign-in instead (AuthenticationResult.AccessToken; Amplify: fetchAuthSession().tokens.accessToken)".into(),
        (Preset::Cognito, Reason::OpaqueToken) => "Cognito issues only JWT access tokens, and this credential is none: send the AccessToken of the sign-in (not an authorization code, nor another provider's token)".into(),
        (Preset::Cognito, Reason::EncryptedToken) => "this is a Cognito refresh token (an encrypted JWE): send the access token (AuthenticationResult.AccessToken), not the refresh token".into(),
        (Preset::Okta, Reason::WrongAudience) => format!(
            "the token's aud is its Okta authorization server's audience (Security > API > Authorization Servers > Audience; api://default for the default server): request the token from the authorization server of this API, or add that audience to {audiences}"
        )
        .into(),
        (Preset::Okta, Reason::IdToken) => "this is an Okta ID token: send the access token (okta-auth-js: authState.accessToken.accessToken), not authState.idToken".into(),
        (Preset::Okta, Reason::OpaqueToken) => "Okta's org authorization server issues opaque tokens, meant for Okta's own APIs: request the token from a custom authorization server (an issuer ending in /oauth2/default or /oauth2/{id}) that names this API".into(),
        (Preset::Keycloak, Reason::WrongAudience) => format!(
            "Keycloak access tokens name an API in aud only through an Audience mapper: add one to the client (Clients > the app's client > Client scopes > dedicated scope > Add mapper > By configuration > Audience, Included Client Audience: this API's client), or add the audience the token carries to {audiences}"
        )
        .into(),
        (Preset::Keycloak, Reason::IdToken) => "this is a Keycloak ID token: send the access token (keycloak-js: keycloak.token), not keycloak.idToken".into(),
        (Preset::Keycloak, Reason::OpaqueToken) => "Keycloak issues JWT access tokens, and this credential is none: send the access token (keycloak-js: keycloak.token), not a refresh token or an authorization code".into(),
        (Preset::Entra, Reason::WrongAudience) => format!(
            "Entra ID names this API in aud by its application (client) id in v2 tokens and by its Application ID URI (api://...) in v1 tokens: list the one your tokens carry (or both) in {audiences}, and request a scope of this API (api://{{app id}}/.default), not Microsoft Graph's"
        )
        .into(),
        (Preset::Entra, Reason::IdToken) => "this is an Entra ID ID token: send the access token acquired for a scope of this API (MSAL: acquireTokenSilent({scopes: ['api://{app id}/...']}).accessToken)".into(),
        (Preset::Entra, Reason::WrongIssuer) => format!(
            "Entra ID v1 tokens carry https://sts.windows.net/{{tenant}}/ and v2 tokens https://login.microsoftonline.com/{{tenant}}/v2.0: set {} to the one your tokens carry, or accessTokenAcceptedVersion: 2 in this API's app manifest",
            issuer.name(Setting::Issuer)
        )
        .into(),
        _ => return None,
    };
    Some(text)
}

/// The general advice, naming the settings as the document spells them (the general texts
/// name the environment variables).
fn source_advice(reason: Reason, issuer: &IssuerSettings) -> Option<Cow<'static, str>> {
    if issuer.source == IssuerSource::Environment {
        return None;
    }
    let name = |setting| issuer.name(setting);
    let text = match reason {
        Reason::AlgorithmNotAllowed => format!(
            "the token's alg is not in {}; add it there if your identity provider really signs with it",
            name(Setting::Algorithms)
        ),
        Reason::WrongIssuer => format!(
            "the token's iss must equal {} exactly, character for character",
            name(Setting::Issuer)
        ),
        Reason::WrongAudience => format!(
            "the token's aud does not name this API; request the token with one of {audiences} as audience, or add its audience to {audiences}",
            audiences = name(Setting::Audiences)
        ),
        Reason::TokenTooOld => format!(
            "the token was issued longer ago than {} allows",
            name(Setting::MaxTokenAge)
        ),
        Reason::InsufficientScope => format!(
            "the token is valid but lacks the scopes or permissions {} asks for; grant them to the client or user",
            name(Setting::RequiredScopes)
        ),
        Reason::JwksUnavailable => format!(
            "the issuer's signing keys could not be fetched and no cached copy is usable; check the identity provider, {} and network egress",
            name(Setting::JwksUri)
        ),
        Reason::IntrospectionUnavailable => format!(
            "the identity provider's userinfo or introspection endpoint could not be asked, so the opaque token could not be validated (failing closed); check the IdP, {}, the client credentials and the function's egress",
            name(Setting::OpaqueEndpoint)
        ),
        _ => return None,
    };
    Some(text.into())
}

/// The advice for a refusal before the token's issuer is known (framing, an `iss` that
/// names none): the one issuer's, when there is one; the document's words for a
/// `wrong_issuer` among several document issuers; otherwise the general advice.
#[must_use]
pub(crate) fn tailor_unrouted(refusal: Refusal, issuers: &[&IssuerSettings]) -> Refusal {
    match issuers {
        [one] => tailor(refusal, one),
        several
            if refusal.reason == Reason::WrongIssuer
                && several
                    .iter()
                    .all(|i| matches!(i.source, IssuerSource::Document { .. })) =>
        {
            refusal.advising(
                "the token's iss must equal one of the document's issuers[].issuer exactly, character for character",
            )
        }
        _ => refusal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(preset: Option<Preset>, source: IssuerSource) -> IssuerSettings {
        IssuerSettings {
            preset,
            source,
            ..IssuerSettings::example()
        }
    }

    const IN_DOCUMENT: IssuerSource = IssuerSource::Document { index: 1 };

    #[test]
    fn the_environment_without_a_preset_keeps_the_general_advice() {
        let plain = issuer(None, IssuerSource::Environment);
        for reason in Reason::ALL {
            assert_eq!(advice(reason, &plain), None, "{reason}");
        }
    }

    #[test]
    fn a_document_issuer_is_advised_with_its_members() {
        let documented = issuer(None, IN_DOCUMENT);
        let audience = advice(Reason::WrongAudience, &documented).unwrap();
        assert!(audience.contains("issuers[1].audiences"), "{audience}");
        assert!(!audience.contains("AUDIENCE"), "{audience}");
        let issuer_advice = advice(Reason::WrongIssuer, &documented).unwrap();
        assert!(
            issuer_advice.contains("issuers[1].issuer exactly"),
            "{issuer_advice}"
        );
        // No general advice that names a per-issuer variable is left as it was.
        for reason in Reason::ALL {
            let text = advice(reason, &documented).map_or(reason.advice().into(), |a| a);
            for variable in [
                "TOKEN_ISSUER",
                "AUDIENCE",
                "ALLOWED_ALGORITHMS",
                "REQUIRED_SCOPES",
                "MAX_TOKEN_AGE_SECONDS",
                "JWKS_URI",
                "OPAQUE_ENDPOINT",
            ] {
                assert!(!text.contains(variable), "{reason}: {text}");
            }
        }
    }

    #[test]
    fn cognito_has_no_audience_to_request() {
        let cognito = issuer(Some(Preset::Cognito), IssuerSource::Environment);
        let audience = advice(Reason::WrongAudience, &cognito).unwrap();
        assert!(
            audience.contains("client_id") && audience.contains("AUDIENCE"),
            "{audience}"
        );
        assert!(!audience.contains("request the token with"), "{audience}");
        let in_document = issuer(Some(Preset::Cognito), IN_DOCUMENT);
        assert!(
            advice(Reason::WrongAudience, &in_document)
                .unwrap()
                .contains("issuers[1].audiences")
        );
        assert!(
            advice(Reason::IdToken, &cognito)
                .unwrap()
                .contains("token_use: id")
        );
    }

    #[test]
    fn one_issuer_advises_before_routing_and_several_document_issuers_are_named_as_such() {
        let cognito = issuer(Some(Preset::Cognito), IssuerSource::Environment);
        let refused = tailor_unrouted(Refusal::new(Reason::EncryptedToken, ""), &[&cognito]);
        assert!(
            refused.hint().contains("refresh token"),
            "{}",
            refused.hint()
        );
        let a = issuer(None, IssuerSource::Document { index: 0 });
        let b = issuer(None, IN_DOCUMENT);
        let refused = tailor_unrouted(Refusal::new(Reason::WrongIssuer, "iss is x"), &[&a, &b]);
        assert!(
            refused.hint().contains("issuers[].issuer"),
            "{}",
            refused.hint()
        );
        let refused = tailor_unrouted(Refusal::new(Reason::OpaqueToken, ""), &[&a, &b]);
        assert_eq!(refused.advice, None);
    }
}
