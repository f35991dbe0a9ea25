//! What is valid but probably not meant: named at init and on reload, printed by
//! `token-verifier check-config`.

use super::layers::IssuerLayer;
use super::presets::Preset;
use super::spec::IssuerSpec;

/// A document issuer's preset sits above the environment's per-issuer variables: name
/// each variable it hides, so moving from variables to a document changes nothing
/// silently.
pub(crate) fn hidden_by_preset(
    spec: &IssuerSpec,
    preset: Preset,
    env: &IssuerLayer,
) -> Vec<String> {
    let own = spec.layer.stated();
    let preset_states = preset.layer(&spec.audiences).stated();
    env.stated()
        .into_iter()
        .filter(|setting| preset_states.contains(setting) && !own.contains(setting))
        .map(|(variable, member)| {
            format!(
                "issuer {}: {variable} from the environment is not used: its preset {} sets it; set {member} in the document's issuer entry to change it",
                spec.issuer,
                preset.as_str()
            )
        })
        .collect()
}
