//! Configuration, read once at init (and again when the document changes): environment
//! variables (`env`), an optional JSON document in SSM ([`document`]), identity
//! provider presets ([`presets`]), stacked as [`layers`] per issuer ([`spec`]) and
//! [`combine`]d into one validated [`Config`] of [`crate::settings`] types, with
//! [`warnings`] for what is valid but probably not meant. Nothing on the request path
//! imports this module.

pub(crate) mod combine;
pub(crate) mod document;
pub(crate) mod env;
pub(crate) mod error;
pub(crate) mod layers;
pub(crate) mod parse;
pub(crate) mod presets;
pub(crate) mod spec;
pub(crate) mod variables;
pub(crate) mod warnings;

#[cfg(test)]
mod tests;

pub(crate) use combine::Config;
pub(crate) use document::ConfigDocument;
pub(crate) use env::EnvConfig;
pub(crate) use error::ConfigError;
