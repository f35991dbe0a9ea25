//! Cedar policies, evaluated here (the `cedar-policy` crate) instead of by a call to
//! Verified Permissions: a policy set validated against its schema when the authorizer is
//! built, and per request a decision for one action or for every action of the schema.
//!
//! The model is Verified Permissions' for API-linked policy stores, so an exported store
//! works unchanged ([`entities`]): principal `NS::User::"<issuer id>|<sub>"`, its groups
//! `NS::UserGroup::"<issuer id>|<group>"`, action `NS::Action::"<method> <resource path>"`
//! ([`actions`]), resource `NS::Application::"NS"`, and a context of `token` (the claims),
//! `scopes`, `pathParameters` and `sourceIp`.

pub(crate) mod actions;
pub(crate) mod entities;
#[cfg(any(test, feature = "tools"))]
pub(crate) mod workload;

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Decision, Entities, EntityId, EntityTypeName, EntityUid,
    PolicyId, PolicySet, Request, RestrictedExpression, Schema, SchemaFragment, ValidationMode,
    Validator,
};
use miette::Diagnostic;

use crate::refusal::sanitize;
use crate::settings::{CedarSettings, CedarText};
use crate::token::Claims;
use actions::{Routes, Target};
pub(crate) use entities::Principal;
use entities::Reads;

/// The context members that come from the request rather than the token: a policy that
/// reads one decides per request, so its answer cannot be cached per token.
const REQUEST_CONTEXT: [&str; 3] = ["pathParameters", "sourceIp", "queryStringParameters"];

/// Why a Cedar policy set could not be built: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CedarError {
    /// The line naming the policy or schema, line and column of the first error.
    pub(crate) message: String,
}

/// A validated policy set, its schema's actions, and how entities are named.
pub(crate) struct CedarPolicies {
    /// The whole set (`explain` shows its policies' text; decisions read `sliced`).
    #[cfg_attr(not(any(feature = "tools", test)), allow(dead_code))]
    policies: PolicySet,
    /// Per action, the policies whose scope can name it (the others can neither permit,
    /// forbid nor err for it): what a decision evaluates.
    sliced: Vec<PolicySet>,
    /// Whether some action has parents (an action group), so `action in` needs them.
    action_groups: bool,
    /// Every action at once (a policy answer), when no policy's condition reads `action`:
    /// each policy once, as a `permit` whose action scope is any action; what it
    /// decides for an action follows from which policies hold and name it.
    uniform: Option<Uniform>,
    authorizer: Authorizer,
    /// Every action of the schema, in its order.
    actions: Vec<EntityUid>,
    /// Their names as Cedar writes them (`MyAPI::Action::"get /users"`), for log lines.
    action_names: Vec<String>,
    /// The actions as routes.
    pub(crate) routes: Routes,
    /// The schema's action entities (for `action in` an action group).
    action_entities: Entities,
    user_type: EntityTypeName,
    group_type: EntityTypeName,
    resource: EntityUid,
    group_claim: String,
    /// The schema namespace (`MyAPI`).
    pub(crate) namespace: String,
    /// Ids of the policies that read the request's own context (path, source IP).
    pub(crate) request_dependent: Vec<String>,
    /// The claims the policies read as the principal's attributes, and of `context.token`.
    reads: (Reads, Reads),
    /// How many policies the set holds.
    pub(crate) policy_count: usize,
}

impl std::fmt::Debug for CedarPolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CedarPolicies")
            .field("namespace", &self.namespace)
            .field("policies", &self.policy_count)
            .field("actions", &self.actions.len())
            .field("request_dependent", &self.request_dependent)
            .finish_non_exhaustive()
    }
}

/// The policies evaluated once for every action (see [`CedarPolicies::permitted`]).
struct Uniform {
    /// The policies with their action scope lifted and every effect `permit`, so that
    /// Cedar names each one that holds.
    lifted: PolicySet,
    /// Per policy id: whether it forbids, and the actions its scope names.
    scope: HashMap<String, (bool, Vec<bool>)>,
}

/// One decision: whether Cedar allows, the policies that determined it, the policies
/// that erred (skipped, as Cedar specifies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Judgement {
    pub(crate) allowed: bool,
    pub(crate) determining: Vec<String>,
    pub(crate) errors: Vec<String>,
}

/// A token as Cedar sees it, built once per request and used for every action asked.
pub(crate) struct Caller {
    pub(crate) principal: Principal,
    entities: Entities,
    scopes: RestrictedExpression,
}

impl CedarPolicies {
    /// Reads, parses and validates a policy set against its schema (strict mode, as
    /// Verified Permissions exports API-linked stores).
    ///
    /// # Errors
    /// A [`CedarError`] naming the file or document member, the policy, and the line and
    /// column of the first error.
    pub(crate) fn build(settings: &CedarSettings) -> Result<CedarPolicies, CedarError> {
        let fail = |what: &str, message: String| CedarError {
            message: format!("{what}: {message}"),
        };
        let policies_text = read(&settings.policies).map_err(|m| fail("policies", m))?;
        let schema_text = read(&settings.schema).map_err(|m| fail("schema", m))?;
        let fragment = if schema_text.trim_start().starts_with('{') {
            SchemaFragment::from_json_str(&schema_text)
                .map_err(|e| fail("schema", located(&e, &schema_text)))?
        } else {
            SchemaFragment::from_cedarschema_str(&schema_text)
                .map_err(|e| fail("schema", located(&e, &schema_text)))?
                .0
        };
        let namespaces: Vec<String> = fragment
            .namespaces()
            .flatten()
            .map(|n| n.to_string())
            .collect();
        let namespace = match (&settings.namespace, namespaces.as_slice()) {
            (Some(n), _) if namespaces.contains(n) => n.clone(),
            (Some(n), _) => {
                return Err(fail(
                    "schema",
                    format!(
                        "declares no namespace {n} (it declares: {})",
                        namespaces.join(", ")
                    ),
                ));
            }
            (None, [one]) => one.clone(),
            (None, []) => {
                return Err(fail(
                    "schema",
                    "declares no namespace: entity types are named NS::User, NS::UserGroup, NS::Application, as Verified Permissions names them".to_owned(),
                ));
            }
            (None, many) => {
                return Err(fail(
                    "schema",
                    format!(
                        "declares several namespaces ({}): set CEDAR_NAMESPACE (authorization.cedar.namespace)",
                        many.join(", ")
                    ),
                ));
            }
        };
        let schema = Schema::from_schema_fragments([fragment])
            .map_err(|e| fail("schema", located(&e, &schema_text)))?;
        let parsed = PolicySet::from_str(&policies_text)
            .map_err(|e| fail("policies", located(&e, &policies_text)))?;
        // Each policy's id is its @id annotation, as Verified Permissions' exports and the
        // Cedar CLI name them; else Cedar's policy0, policy1, … in order.
        let mut policies = PolicySet::new();
        for policy in parsed.policies() {
            let policy = match policy.annotation("id") {
                Some(id) => policy.new_id(PolicyId::new(id)),
                None => policy.clone(),
            };
            let id = policy.id().to_string();
            policies
                .add(policy)
                .map_err(|e| fail("policies", format!("policy `{}`: {e}", sanitize(&id, 64))))?;
        }
        if parsed.templates().next().is_some() {
            return Err(fail(
                "policies",
                "holds a policy template: link it to a policy (templates are not evaluated here)"
                    .to_owned(),
            ));
        }
        let validated = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        if let Some(error) = validated.validation_errors().next() {
            let id = error.policy_id().to_string();
            return Err(fail(
                "policies",
                format!(
                    "policy `{}` does not match the schema: {}",
                    sanitize(&id, 64),
                    located(error, &policies_text)
                ),
            ));
        }
        let type_name = |basename: &str| {
            EntityTypeName::from_str(&format!("{namespace}::{basename}"))
                .map_err(|e| fail("schema", e.to_string()))
        };
        let user_type = type_name("User")?;
        let group_type = type_name("UserGroup")?;
        let resource =
            EntityUid::from_type_name_and_id(type_name("Application")?, EntityId::new(&namespace));
        // In the order of their names: the same policy answer from every build.
        let mut actions: Vec<EntityUid> = schema.actions().cloned().collect();
        actions.sort_by_key(ToString::to_string);
        let routes = Routes::new(
            actions
                .iter()
                .map(|a| Target::parse(a.id().unescaped()))
                .collect(),
        );
        let action_entities = schema
            .action_entities()
            .map_err(|e| fail("schema", e.to_string()))?;
        let ancestors = |action: &EntityUid| -> Vec<EntityUid> {
            action_entities
                .ancestors(action)
                .map(|a| a.cloned().collect())
                .unwrap_or_default()
        };
        let action_groups = actions.iter().any(|a| !ancestors(a).is_empty());
        let sliced = actions
            .iter()
            .map(|action| {
                let lineage = ancestors(action);
                let mut slice = PolicySet::new();
                for policy in policies.policies() {
                    let names = match policy.action_constraint() {
                        ActionConstraint::Eq(uid) => uid == *action,
                        ActionConstraint::In(uids) => {
                            uids.iter().any(|u| u == action || lineage.contains(u))
                        }
                        ActionConstraint::Any => true,
                    };
                    if names {
                        slice
                            .add(policy.clone())
                            .map_err(|e| fail("policies", e.to_string()))?;
                    }
                }
                Ok(slice)
            })
            .collect::<Result<Vec<_>, CedarError>>()?;
        // Each policy's JSON form once (Cedar writes it from the policy's text: about 50 µs
        // a policy), for what the policies read.
        let forms: Vec<Option<serde_json::Value>> =
            policies.policies().map(|p| p.to_json().ok()).collect();
        let uniform = uniform(&policies, &forms, &sliced);
        let mut reads = (
            Reads::Names(BTreeSet::default()),
            Reads::Names(BTreeSet::default()),
        );
        let mut request_dependent = Vec::new();
        for (policy, form) in policies.policies().zip(&forms) {
            if let Some(json) = form {
                claims_read(json, &mut reads.0, &mut reads.1);
                if reads_request_context(json) {
                    request_dependent.push(policy.id().to_string());
                }
            } else {
                reads = (Reads::All, Reads::All);
                request_dependent.push(policy.id().to_string());
            }
        }
        Ok(CedarPolicies {
            policy_count: policies.policies().count(),
            action_names: actions.iter().map(ToString::to_string).collect(),
            policies,
            sliced,
            action_groups,
            uniform,
            authorizer: Authorizer::new(),
            actions,
            routes,
            action_entities,
            user_type,
            group_type,
            resource,
            group_claim: settings.group_claim.clone(),
            namespace,
            request_dependent,
            reads,
        })
    }

    /// The action a called route goes to, with its path parameters.
    pub(crate) fn action_for(
        &self,
        method: &str,
        path: &[String],
    ) -> Option<(usize, Vec<(String, String)>)> {
        self.routes.find(method, path)
    }

    /// The Cedar name of action `index` (`MyAPI::Action::"get /users"`).
    pub(crate) fn action_name(&self, index: usize) -> &str {
        &self.action_names[index]
    }

    /// The GraphQL field action `index` names (`Query.getPost`), if it names one.
    pub(crate) fn field(&self, index: usize) -> Option<&str> {
        match &self.routes.targets[index] {
            Target::Other(name) if is_field(name) => Some(name),
            _ => None,
        }
    }

    /// The resource every request names (`MyAPI::Application::"MyAPI"`).
    #[cfg(feature = "tools")]
    pub(crate) fn resource_name(&self) -> String {
        self.resource.to_string()
    }

    /// How many actions the schema declares.
    pub(crate) fn action_count(&self) -> usize {
        self.actions.len()
    }

    /// The token as Cedar sees it.
    ///
    /// # Errors
    /// Why no principal can be built (no `sub`), for a `policy_denied` refusal.
    pub(crate) fn caller(
        &self,
        issuer: &str,
        claims: &Claims,
        scopes: &[String],
    ) -> Result<Caller, String> {
        let (principal, entity) = entities::principal(
            &self.user_type,
            &self.group_type,
            issuer,
            claims,
            &self.group_claim,
            (&self.reads.0, &self.reads.1),
        )?;
        let entities = if self.action_groups {
            self.action_entities.clone().add_entities([entity], None)
        } else {
            Entities::from_entities([entity], None)
        }
        .map_err(|e| format!("the principal is no Cedar entity: {e}"))?;
        let scopes = entities::scopes(scopes);
        Ok(Caller {
            principal,
            entities,
            scopes,
        })
    }

    /// The request's own context: the token's, with the path parameters and source IP
    /// when some policy reads the request's context.
    ///
    /// # Errors
    /// When Cedar cannot build it (never for strings; kept for the API's sake).
    pub(crate) fn context(
        &self,
        caller: &Caller,
        path_parameters: &[(String, String)],
        source_ip: Option<&str>,
    ) -> Result<Context, String> {
        let mut pairs = vec![
            ("token".to_owned(), caller.principal.token.clone()),
            ("scopes".to_owned(), caller.scopes.clone()),
        ];
        if !self.request_dependent.is_empty() {
            pairs.push((
                "pathParameters".to_owned(),
                RestrictedExpression::new_record(
                    path_parameters
                        .iter()
                        .map(|(k, v)| (k.clone(), RestrictedExpression::new_string(v.clone()))),
                )
                .map_err(|e| e.to_string())?,
            ));
            if let Some(ip) = source_ip.filter(|ip| ip.parse::<std::net::IpAddr>().is_ok()) {
                pairs.push(("sourceIp".to_owned(), RestrictedExpression::new_ip(ip)));
            }
        }
        Context::from_pairs(pairs).map_err(|e| e.to_string())
    }

    /// Whether the principal carries claim `name` as an attribute (`explain`).
    #[cfg(feature = "tools")]
    pub(crate) fn reads_attribute(&self, name: &str) -> bool {
        self.reads.0.wants(name) || self.reads.1.wants(name)
    }

    /// Cedar's decision for one action in `context`.
    pub(crate) fn judge(&self, caller: &Caller, action: usize, context: Context) -> Judgement {
        let request = match Request::new(
            caller.principal.uid.clone(),
            self.actions[action].clone(),
            self.resource.clone(),
            context,
            None,
        ) {
            Ok(request) => request,
            Err(e) => {
                return Judgement {
                    allowed: false,
                    determining: Vec::new(),
                    errors: vec![e.to_string()],
                };
            }
        };
        let response =
            self.authorizer
                .is_authorized(&request, &self.sliced[action], &caller.entities);
        let diagnostics = response.diagnostics();
        Judgement {
            allowed: response.decision() == Decision::Allow,
            determining: diagnostics.reason().map(ToString::to_string).collect(),
            errors: diagnostics.errors().map(ToString::to_string).collect(),
        }
    }

    /// Whether Cedar permits each action of the schema for this caller, in the token's
    /// context alone (a policy answer: the same for every request of the token).
    pub(crate) fn permitted(&self, caller: &Caller) -> Vec<Judgement> {
        let base = match Context::from_pairs([
            ("token".to_owned(), caller.principal.token.clone()),
            ("scopes".to_owned(), caller.scopes.clone()),
        ]) {
            Ok(base) => base,
            Err(e) => {
                let failed = Judgement {
                    errors: vec![format!("the token is no Cedar context: {e}")],
                    ..Judgement::default()
                };
                return vec![failed; self.actions.len()];
            }
        };
        let Some(uniform) = &self.uniform else {
            return (0..self.actions.len())
                .map(|action| self.judge(caller, action, base.clone()))
                .collect();
        };
        let Some(first) = self.actions.first() else {
            return Vec::new();
        };
        // Each policy once: its scope's principal and resource, its conditions.
        let held = match Request::new(
            caller.principal.uid.clone(),
            first.clone(),
            self.resource.clone(),
            base,
            None,
        ) {
            Ok(request) => {
                self.authorizer
                    .is_authorized(&request, &uniform.lifted, &caller.entities)
            }
            Err(e) => {
                let failed = Judgement {
                    errors: vec![e.to_string()],
                    ..Judgement::default()
                };
                return vec![failed; self.actions.len()];
            }
        };
        let diagnostics = held.diagnostics();
        let holding: Vec<&str> = diagnostics.reason().map(PolicyId::as_ref).collect();
        let erring: Vec<(String, String)> = diagnostics
            .errors()
            .map(|e| match e {
                cedar_policy::AuthorizationError::PolicyEvaluationError(e) => {
                    (e.policy_id().to_string(), e.to_string())
                }
            })
            .collect();
        (0..self.actions.len())
            .map(|action| {
                let names = |id: &str| {
                    uniform
                        .scope
                        .get(id)
                        .filter(|(_, actions)| actions[action])
                        .map(|(forbids, _)| *forbids)
                };
                let forbids: Vec<String> = holding
                    .iter()
                    .filter(|id| names(id) == Some(true))
                    .map(|id| (*id).to_owned())
                    .collect();
                let permits: Vec<String> = holding
                    .iter()
                    .filter(|id| names(id) == Some(false))
                    .map(|id| (*id).to_owned())
                    .collect();
                let errors = erring
                    .iter()
                    .filter(|(id, _)| names(id).is_some())
                    .map(|(_, e)| e.clone())
                    .collect();
                let allowed = forbids.is_empty() && !permits.is_empty();
                Judgement {
                    allowed,
                    determining: if forbids.is_empty() { permits } else { forbids },
                    errors,
                }
            })
            .collect()
    }
}

/// `Type.field`: two GraphQL names joined by a dot.
fn is_field(name: &str) -> bool {
    let graphql = |s: &str| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    name.split_once('.')
        .is_some_and(|(ty, field)| graphql(ty) && graphql(field))
}

/// The policies lifted for [`CedarPolicies::permitted`], when none reads `action` in its
/// conditions (then what holds of it is the same for every action its scope names).
fn uniform(
    policies: &PolicySet,
    forms: &[Option<serde_json::Value>],
    sliced: &[PolicySet],
) -> Option<Uniform> {
    let mut lifted = PolicySet::new();
    let mut scope = HashMap::new();
    for (policy, form) in policies.policies().zip(forms) {
        let mut json = form.clone()?;
        if json.get("conditions").is_some_and(reads_action) {
            return None;
        }
        json["action"] = serde_json::json!({"op": "All"});
        json["effect"] = serde_json::json!("permit");
        let id = policy.id().clone();
        lifted
            .add(cedar_policy::Policy::from_json(Some(id.clone()), json).ok()?)
            .ok()?;
        let names = sliced
            .iter()
            .map(|slice| slice.policy(&id).is_some())
            .collect();
        scope.insert(
            id.to_string(),
            (policy.effect() == cedar_policy::Effect::Forbid, names),
        );
    }
    Some(Uniform { lifted, scope })
}

/// The claims a policy (Cedar's JSON form) reads: attributes of `principal`, members of
/// `context.token`; `context.token` or `context` used whole reads every claim.
fn claims_read(json: &serde_json::Value, principal: &mut Reads, token: &mut Reads) {
    use serde_json::Value;
    let is_var = |v: Option<&Value>, name: &str| {
        v.and_then(|v| v.get("Var")).and_then(Value::as_str) == Some(name)
    };
    match json {
        Value::Object(map) => {
            for op in [".", "has"] {
                let Some(Value::Object(access)) = map.get(op) else {
                    continue;
                };
                let attr = access
                    .get("attr")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let left = access.get("left");
                if is_var(left, "principal") {
                    principal.add(attr);
                    return;
                }
                if is_var(left, "context") {
                    if attr == "token" {
                        // `context.token` itself, not one of its members.
                        *token = Reads::All;
                    }
                    return;
                }
                if let Some(Value::Object(inner)) = left.and_then(|l| l.get("."))
                    && is_var(inner.get("left"), "context")
                    && inner.get("attr").and_then(Value::as_str) == Some("token")
                {
                    token.add(attr);
                    return;
                }
            }
            if map.get("Var").and_then(Value::as_str) == Some("context") {
                *token = Reads::All;
                return;
            }
            for value in map.values() {
                claims_read(value, principal, token);
            }
        }
        Value::Array(items) => {
            for item in items {
                claims_read(item, principal, token);
            }
        }
        _ => {}
    }
}

/// Whether a policy's conditions (Cedar's JSON form) read the `action` variable.
fn reads_action(json: &serde_json::Value) -> bool {
    use serde_json::Value;
    match json {
        Value::Object(map) => {
            map.get("Var").and_then(Value::as_str) == Some("action")
                || map.values().any(reads_action)
        }
        Value::Array(items) => items.iter().any(reads_action),
        _ => false,
    }
}

/// The text of a policy set or schema.
fn read(text: &CedarText) -> Result<String, String> {
    match text {
        CedarText::Inline(text) => Ok(text.clone()),
        CedarText::File(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
    }
}

/// An error with the line and column of its first labelled span in `source`.
fn located(error: &(dyn Diagnostic + 'static), source: &str) -> String {
    let mut message = error.to_string();
    let span = error
        .labels()
        .and_then(|mut labels| labels.next())
        .or_else(|| {
            error
                .related()
                .and_then(|mut r| r.find_map(|d| d.labels().and_then(|mut l| l.next())))
        });
    if let Some(help) = error.help() {
        message = format!("{message} ({help})");
    }
    match span {
        Some(span) => {
            let (line, column) = line_column(source, span.offset());
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// Whether a policy (Cedar's JSON form) reads a member of the context that comes from
/// the request, or the context whole.
fn reads_request_context(json: &serde_json::Value) -> bool {
    use serde_json::Value;
    match json {
        Value::Object(map) => {
            for op in [".", "has"] {
                if let Some(Value::Object(access)) = map.get(op)
                    && access
                        .get("left")
                        .and_then(|l| l.get("Var"))
                        .and_then(Value::as_str)
                        == Some("context")
                {
                    let attr = access
                        .get("attr")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    return REQUEST_CONTEXT.contains(&attr);
                }
            }
            if map.get("Var").and_then(Value::as_str) == Some("context") {
                // The context whole (compared, or passed on): it holds the request's parts.
                return true;
            }
            map.values().any(reads_request_context)
        }
        Value::Array(items) => items.iter().any(reads_request_context),
        _ => false,
    }
}

/// A map from policy id to its text, for `explain`.
#[cfg(feature = "tools")]
pub(crate) fn policy_texts(policies: &CedarPolicies) -> HashMap<String, String> {
    policies
        .policies
        .policies()
        .map(|p| (p.id().to_string(), p.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(policies: &str, schema: &str) -> CedarSettings {
        CedarSettings {
            origin: "test".to_owned(),
            policies: CedarText::Inline(policies.to_owned()),
            schema: CedarText::Inline(schema.to_owned()),
            group_claim: "permissions".to_owned(),
            namespace: None,
        }
    }

    fn claims(value: serde_json::Value) -> Claims {
        let serde_json::Value::Object(map) = value else {
            unreachable!()
        };
        Claims::from_map(&map)
    }

    impl CedarPolicies {
        /// Cedar's own decision over the whole set, unsliced: what every shortcut must equal.
        fn judge_whole(&self, caller: &Caller, action: usize) -> Judgement {
            let context = Context::from_pairs([
                ("token".to_owned(), caller.principal.token.clone()),
                ("scopes".to_owned(), caller.scopes.clone()),
            ])
            .unwrap();
            let request = Request::new(
                caller.principal.uid.clone(),
                self.actions[action].clone(),
                self.resource.clone(),
                context,
                None,
            )
            .unwrap();
            let entities = &caller.entities;
            let response = self
                .authorizer
                .is_authorized(&request, &self.policies, entities);
            let mut determining: Vec<String> = response
                .diagnostics()
                .reason()
                .map(ToString::to_string)
                .collect();
            determining.sort();
            Judgement {
                allowed: response.decision() == Decision::Allow,
                determining,
                errors: response
                    .diagnostics()
                    .errors()
                    .map(ToString::to_string)
                    .collect(),
            }
        }
    }

    /// A policy answer evaluates each policy once for every action, and a decision the
    /// policies that name its action: both decide, name and err exactly as Cedar does
    /// over the whole set, action by action.
    #[test]
    fn the_shortcuts_decide_exactly_as_cedar_over_the_whole_set() {
        use super::workload;
        let built = CedarPolicies::build(&settings(
            &workload::cedar_policies(60),
            &workload::cedar_schema(),
        ))
        .unwrap();
        assert!(built.uniform.is_some());
        let tokens = [
            serde_json::json!({"sub": "a", "permissions": ["read:messages", "perm-0", "perm-25"], "org_id": "org_6"}),
            serde_json::json!({"sub": "b", "permissions": "perm-10 perm-45", "org_id": "org_blocked_4", "scope": "blocked:2 x"}),
            serde_json::json!({"sub": "c", "org_id": 7}),
            serde_json::json!({"sub": "d", "permissions": ["read:messages"], "scope": "read:messages blocked:12"}),
        ];
        for token in tokens {
            let claims = claims(token.clone());
            let scopes: Vec<String> = ["read:messages", "x"].map(str::to_owned).to_vec();
            let caller = built
                .caller("https://acme.us.auth0.com/", &claims, &scopes)
                .unwrap();
            let all = built.permitted(&caller);
            for (action, judgement) in all.iter().enumerate() {
                let whole = built.judge_whole(&caller, action);
                let mut sorted = judgement.clone();
                sorted.determining.sort();
                assert_eq!(
                    (sorted.allowed, &sorted.determining, sorted.errors.len()),
                    (whole.allowed, &whole.determining, whole.errors.len()),
                    "{token} {}",
                    built.action_name(action)
                );
                let context = built.context(&caller, &[], None).unwrap();
                let mut one = built.judge(&caller, action, context);
                one.determining.sort();
                assert_eq!(
                    (one.allowed, &one.determining),
                    (whole.allowed, &whole.determining)
                );
            }
        }
    }

    /// A request converts only the claims some policy reads; `context.token` or the
    /// context used whole reads them all.
    #[test]
    fn the_claims_a_set_reads_are_found_in_its_policies() {
        let schema = "namespace A { entity UserGroup; entity Application; entity User in [UserGroup] { email?: String, \"cognito:username\"?: String }; type T = { scope?: Set<String>, tenant?: String }; action \"get /a\" appliesTo { principal: User, resource: Application, context: { token: T } }; }";
        let reads = |policies: &str| {
            CedarPolicies::build(&settings(policies, schema))
                .unwrap()
                .reads
        };
        let names = |n: &[&str]| Reads::Names(n.iter().map(|s| (*s).to_owned()).collect());
        assert_eq!(
            reads(
                r#"permit(principal, action, resource) when { principal has email && principal.email like "*@a" && principal has "cognito:username" && context.token has scope && context.token.scope.contains("x") };"#
            ),
            (names(&["cognito:username", "email"]), names(&["scope"]))
        );
        assert_eq!(
            reads(r#"permit(principal in A::UserGroup::"p|g", action, resource);"#),
            (names(&[]), names(&[]))
        );
        assert_eq!(
            reads("permit(principal, action, resource) when { context.token == context.token };").1,
            Reads::All
        );
    }

    #[test]
    fn a_policy_that_reads_the_action_is_evaluated_action_by_action() {
        let schema = "namespace A { entity UserGroup; entity Application; entity User in [UserGroup]; action \"get /a\", \"get /b\" appliesTo { principal: User, resource: Application }; }";
        let built = CedarPolicies::build(&settings(
            "permit(principal, action, resource) when { action == A::Action::\"get /a\" };",
            schema,
        ))
        .unwrap();
        assert!(built.uniform.is_none());
        let caller = built
            .caller(
                "https://idp.example",
                &claims(serde_json::json!({"sub": "s"})),
                &[],
            )
            .unwrap();
        let permitted: Vec<bool> = built.permitted(&caller).iter().map(|j| j.allowed).collect();
        assert_eq!(permitted, [true, false]);
    }
}
