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
mod evaluate;
#[cfg(any(test, feature = "tools"))]
pub(crate) mod workload;

#[cfg(feature = "tools")]
use std::collections::HashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    ActionConstraint, EntityId, EntityTypeName, EntityUid, PolicyId, PolicySet, Schema,
    SchemaFragment, ValidationMode, Validator,
};
use cedar_policy_core::ast::{Context, EntityType, EntityUID, Value};
use cedar_policy_core::entities::Entities;
use miette::Diagnostic;
use smol_str::SmolStr;

use crate::refusal::sanitize;
use crate::settings::{CedarSettings, CedarText};
use crate::token::Claims;
use actions::{Routes, Target};
pub(crate) use entities::Principal;
use entities::Reads;
use evaluate::{Interner, Parts, Rule};

/// The context members that come from the request rather than the token: a policy that
/// reads one decides per request, so its answer cannot be cached per token.
const REQUEST_CONTEXT: [&str; 2] = ["pathParameters", "sourceIp"];

/// Every member of the context a request is evaluated with: the token's claims, the
/// granted scopes, and the request's own parts.
const CONTEXT_MEMBERS: [&str; 4] = ["token", "scopes", "pathParameters", "sourceIp"];

/// Why a Cedar policy set could not be built: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CedarError {
    /// The line naming the policy or schema, line and column of the first error.
    pub(crate) message: String,
}

/// A validated policy set, its schema's actions, and how entities are named.
pub(crate) struct CedarPolicies {
    /// The whole set (`explain` shows its policies' text; decisions read `rules`).
    #[cfg_attr(not(any(feature = "tools", test)), allow(dead_code))]
    policies: PolicySet,
    /// Its policies, in its order, ready to evaluate.
    rules: Vec<Rule>,
    /// The distinct conjuncts of their conditions, each evaluated once per request.
    parts: Parts,
    /// Per action, the policies (indices of `rules`) whose scope can name it (the others
    /// can neither permit, forbid nor err for it): what a decision evaluates.
    sliced: Vec<Vec<usize>>,
    /// Every action at once (a policy answer) evaluates each policy once, without its
    /// action constraint, when no policy's condition reads `action`: what it decides for
    /// an action follows from which policies hold and name it.
    uniform: bool,
    /// Every action of the schema, in its order (as the evaluator takes them), and the
    /// resource.
    action_uids: Vec<Arc<EntityUID>>,
    resource_uid: Arc<EntityUID>,
    /// Their names as Cedar writes them (`MyAPI::Action::"get /users"`), for log lines.
    action_names: Vec<String>,
    /// The actions as routes.
    pub(crate) routes: Routes,
    /// The schema's action entities, when some action has parents (an action group) and
    /// some condition reads `action` (`action in` a group then needs them; the scopes'
    /// action constraints are settled by `sliced`).
    action_entities: Option<Entities>,
    user_type: EntityType,
    group_type: EntityType,
    group_claim: String,
    /// The schema namespace (`MyAPI`).
    pub(crate) namespace: String,
    /// Ids of the policies that read the request's own context (path, source IP).
    pub(crate) request_dependent: Vec<String>,
    /// `policy id: context.member` for each member of the context a policy reads that no
    /// request has ([`CONTEXT_MEMBERS`]): such a policy always errs, and Cedar skips it.
    pub(crate) unbuilt_context: Vec<String>,
    /// The claims the policies read as the principal's attributes, and of `context.token`.
    reads: (Reads, Reads),
    /// The set's seal ([`seal`]), and whether this build trusted it instead of validating.
    pub(crate) seal: String,
    pub(crate) validated: Validated,
}

/// How a built set came to be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Validated {
    /// Validated against its schema by this build (strict mode), in this long: what a
    /// seal would save.
    Here(std::time::Duration),
    /// Its configured seal is the seal of these texts: `check-config` validated them.
    BySeal,
}

/// What a seal stands for besides the texts: bump it whenever what `build` asks of Cedar's
/// validator changes (its mode, its options), so older seals stop vouching.
const SEAL_FORMAT: &str = "token-verifier cedar seal 1: ValidationMode::Strict";

/// The seal of a policy set and its schema, as `check-config` prints it after validating
/// them: `sha256:` and the hex SHA-256 of [`SEAL_FORMAT`], this verifier's and Cedar's
/// versions and the two texts (each length-prefixed), so a seal stands for one exact set
/// validated by one exact validator.
pub(crate) fn seal(policies: &str, schema: &str) -> String {
    let versions = format!(
        "{SEAL_FORMAT}; token-verifier {}; cedar-policy {}",
        env!("CARGO_PKG_VERSION"),
        cedar_policy::get_sdk_version()
    );
    let texts = [versions.as_bytes(), schema.as_bytes(), policies.as_bytes()];
    let lengths = texts.map(|text| (text.len() as u64).to_be_bytes());
    let framed = lengths
        .iter()
        .zip(texts)
        .flat_map(|(length, text)| [length.as_slice(), text]);
    format!("sha256:{}", crate::digest::sha256_hex(framed, 32))
}

impl std::fmt::Debug for CedarPolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CedarPolicies")
            .field("namespace", &self.namespace)
            .field("policies", &self.rules.len())
            .field("actions", &self.action_uids.len())
            .field("request_dependent", &self.request_dependent)
            .field("unbuilt_context", &self.unbuilt_context)
            .finish_non_exhaustive()
    }
}

/// One decision: whether Cedar allows, the policies that determined it, the policies
/// that erred (skipped, as Cedar specifies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Judgement {
    pub(crate) allowed: bool,
    pub(crate) determining: Vec<String>,
    pub(crate) errors: Vec<String>,
}

/// What Cedar permits a token of every action of the schema (a policy answer), and the
/// errors of the policies that erred (each once; skipped, as Cedar specifies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Permitted {
    /// Per action of the schema, in its order.
    pub(crate) allowed: Vec<bool>,
    pub(crate) errors: Vec<String>,
}

/// A token as Cedar sees it, built once per request and used for every action asked.
pub(crate) struct Caller {
    pub(crate) principal: Principal,
    entities: Entities,
    /// The token's own context: `token` (the claims the policies read) and `scopes`.
    context: Arc<BTreeMap<SmolStr, Value>>,
}

impl CedarPolicies {
    /// Reads, parses and validates a policy set against its schema (strict mode, as
    /// Verified Permissions exports API-linked stores). A configured seal that is these
    /// texts' own ([`seal`]) stands for the validation `check-config` did: the set is
    /// parsed and prepared, not validated again.
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
            // Found among its annotations: `Policy::annotation` parses the key with Cedar's
            // whole parser on every call (60,000 instructions; 30 ms of init for 500
            // policies under callgrind).
            let id = policy
                .annotations()
                .find_map(|(key, value)| (key == "id").then_some(value));
            let policy = match id {
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
        let own_seal = seal(&policies_text, &schema_text);
        let validated = if settings.seal.as_deref() == Some(own_seal.as_str()) {
            Validated::BySeal
        } else {
            let began = std::time::Instant::now();
            let result = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
            if let Some(error) = result.validation_errors().next() {
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
            Validated::Here(began.elapsed())
        };
        let type_name = |basename: &str| {
            EntityTypeName::from_str(&format!("{namespace}::{basename}"))
                .map_err(|e| fail("schema", e.to_string()))
        };
        let user_type: EntityType = type_name("User")?.as_ref().clone();
        let group_type: EntityType = type_name("UserGroup")?.as_ref().clone();
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
        // Each policy's action scope once (Cedar builds it anew at every call), then
        // which policies each action can meet.
        let scopes: Vec<ActionConstraint> = policies
            .policies()
            .map(cedar_policy::Policy::action_constraint)
            .collect();
        let sliced: Vec<Vec<usize>> = actions
            .iter()
            .map(|action| {
                let lineage = ancestors(action);
                scopes
                    .iter()
                    .enumerate()
                    .filter(|(_, scope)| match scope {
                        ActionConstraint::Eq(uid) => uid == action,
                        ActionConstraint::In(uids) => {
                            uids.iter().any(|u| u == action || lineage.contains(u))
                        }
                        ActionConstraint::Any => true,
                    })
                    .map(|(index, _)| index)
                    .collect()
            })
            .collect();
        let mut interner = Interner::default();
        let rules: Vec<Rule> = policies
            .policies()
            .map(|policy| Rule::new(policy, &mut interner))
            .collect();
        let parts = interner.finish();
        let mut reads = (
            Reads::Names(BTreeSet::default()),
            Reads::Names(BTreeSet::default()),
        );
        let mut request_dependent = Vec::new();
        let mut unbuilt_context = Vec::new();
        let mut uniform = true;
        for policy in policies.policies() {
            let read = evaluate::reads(policy, &REQUEST_CONTEXT, &mut reads.0, &mut reads.1);
            for member in read
                .context_members
                .iter()
                .filter(|m| !CONTEXT_MEMBERS.contains(&m.as_str()))
            {
                unbuilt_context.push(format!("{}: context.{member}", policy.id()));
            }
            uniform &= !read.action;
            if read.request_context {
                request_dependent.push(policy.id().to_string());
            }
        }
        Ok(CedarPolicies {
            action_names: actions.iter().map(ToString::to_string).collect(),
            policies,
            rules,
            parts,
            sliced,
            uniform,
            action_uids: actions
                .iter()
                .cloned()
                .map(|a| Arc::new(a.into()))
                .collect(),
            resource_uid: Arc::new(resource.into()),
            routes,
            action_entities: (action_groups && !uniform).then(|| action_entities.as_ref().clone()),
            user_type,
            group_type,
            group_claim: settings.group_claim.clone(),
            namespace,
            request_dependent,
            unbuilt_context,
            reads,
            seal: own_seal,
            validated,
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
        self.resource_uid.to_string()
    }

    /// How many actions the schema declares.
    pub(crate) fn action_count(&self) -> usize {
        self.action_uids.len()
    }

    /// How many policies the set holds.
    pub(crate) fn policy_count(&self) -> usize {
        self.rules.len()
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
        let (principal, entity, token) = entities::principal(
            &self.user_type,
            &self.group_type,
            issuer,
            claims,
            &self.group_claim,
            (&self.reads.0, &self.reads.1),
        )?;
        let entities = evaluate::entities(entity, self.action_entities.as_ref())?;
        let context = BTreeMap::from([
            (SmolStr::new_static("token"), token),
            (SmolStr::new_static("scopes"), entities::scopes(scopes)),
        ]);
        Ok(Caller {
            principal,
            entities,
            context: Arc::new(context),
        })
    }

    /// The request's own context: the token's, with the path parameters and source IP
    /// when some policy reads the request's context.
    pub(crate) fn context(
        &self,
        caller: &Caller,
        path_parameters: &[(String, String)],
        source_ip: Option<&str>,
    ) -> Context {
        if self.request_dependent.is_empty() {
            return Context::Value(Arc::clone(&caller.context));
        }
        let mut context = caller.context.as_ref().clone();
        context.insert(
            SmolStr::new_static("pathParameters"),
            Value::record(
                path_parameters
                    .iter()
                    .map(|(k, v)| (SmolStr::new(k), Value::from(v.as_str()))),
                None,
            ),
        );
        if let Some(ip) = source_ip.and_then(evaluate::ip) {
            context.insert(SmolStr::new_static("sourceIp"), ip);
        }
        Context::Value(Arc::new(context))
    }

    /// Whether the principal carries claim `name` as an attribute (`explain`).
    #[cfg(feature = "tools")]
    pub(crate) fn reads_attribute(&self, name: &str) -> bool {
        self.reads.0.wants(name) || self.reads.1.wants(name)
    }

    /// Cedar's decision for one action in `context`: every policy whose scope names the
    /// action evaluated, so the determining policies and the errors are all named.
    pub(crate) fn judge(&self, caller: &Caller, action: usize, context: &Context) -> Judgement {
        let mut asking = self.asking(caller, action, context);
        evaluate::decide(&self.sliced[action], &self.rules, |index| {
            asking.holds(&self.rules[index])
        })
    }

    /// Whether Cedar permits each action of the schema for this caller, in the token's
    /// context alone (a policy answer: the same for every request of the token). Only
    /// what decides is evaluated: an action's permits until one holds, then its forbids
    /// until one holds; when no condition reads `action`, each policy at most once for
    /// every action its scope names.
    pub(crate) fn permitted(&self, caller: &Caller) -> Permitted {
        self.permitted_with(caller, None).1
    }

    /// [`CedarPolicies::judge`] of the called action in the token's own context, with
    /// [`CedarPolicies::permitted`] (a policy answer): when no condition reads `action`,
    /// the called action's policies are evaluated once for both.
    pub(crate) fn judge_with_all(&self, caller: &Caller, action: usize) -> (Judgement, Permitted) {
        match self.permitted_with(caller, Some(action)) {
            (Some(judgement), permitted) => (judgement, permitted),
            (None, permitted) => {
                let context = Context::Value(Arc::clone(&caller.context));
                (self.judge(caller, action, &context), permitted)
            }
        }
    }

    /// [`CedarPolicies::permitted`]; with `judged` (an action), and when no condition
    /// reads `action`, also that action's whole judgement, from the same evaluations.
    fn permitted_with(
        &self,
        caller: &Caller,
        judged: Option<usize>,
    ) -> (Option<Judgement>, Permitted) {
        let context = Context::Value(Arc::clone(&caller.context));
        let mut errors = Vec::new();
        let mut record = |holds: evaluate::Holds| match holds {
            Ok(holds) => holds,
            Err(error) => {
                errors.push(error);
                false
            }
        };
        if !self.uniform {
            let allowed = (0..self.action_uids.len())
                .map(|action| {
                    let mut asking = self.asking(caller, action, &context);
                    evaluate::allows(&self.sliced[action], &self.rules, |index| {
                        record(asking.holds(&self.rules[index]))
                    })
                })
                .collect();
            errors.sort();
            errors.dedup();
            return (None, Permitted { allowed, errors });
        }
        if self.action_uids.is_empty() {
            return (None, Permitted::default());
        }
        // No condition reads `action`: what a policy gives is the same for every action
        // its scope names, so one evaluator serves them all and each policy is evaluated
        // once, if asked.
        let mut asking = self.asking(caller, 0, &context);
        let mut held: Vec<Option<bool>> = vec![None; self.rules.len()];
        // The called action's policies first, every one, for its determining policies
        // and errors.
        let judgement = judged.map(|action| {
            evaluate::decide(&self.sliced[action], &self.rules, |index| {
                let holds = asking.holds(&self.rules[index]);
                held[index] = Some(record(holds.clone()));
                holds
            })
        });
        let allowed = self
            .sliced
            .iter()
            .map(|named| {
                evaluate::allows(named, &self.rules, |index| {
                    *held[index].get_or_insert_with(|| record(asking.holds(&self.rules[index])))
                })
            })
            .collect();
        (judgement, Permitted { allowed, errors })
    }

    /// One request's evaluation for `caller`, asking about action `action` in `context`.
    fn asking<'c>(
        &'c self,
        caller: &'c Caller,
        action: usize,
        context: &Context,
    ) -> evaluate::Asking<'c> {
        let evaluator = evaluate::evaluator(
            &caller.principal.uid,
            &self.action_uids[action],
            &self.resource_uid,
            context,
            &caller.entities,
        );
        evaluate::Asking::new(evaluator, caller.scoped(), &self.parts)
    }
}

impl Caller {
    fn scoped(&self) -> evaluate::Principal<'_> {
        evaluate::Principal {
            uid: &self.principal.uid,
            groups: &self.principal.groups,
        }
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
            seal: None,
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
        /// `schema`: the set's schema, whose action entities Cedar needs for `action in`.
        fn judge_whole(&self, caller: &Caller, action: usize, schema: &str) -> Judgement {
            let known = |uid: &Arc<EntityUID>| cedar_policy_core::ast::EntityUIDEntry::Known {
                euid: Arc::clone(uid),
                loc: None,
            };
            let request =
                cedar_policy::Request::from(cedar_policy_core::ast::Request::new_unchecked(
                    known(&caller.principal.uid),
                    known(&self.action_uids[action]),
                    known(&self.resource_uid),
                    Some(Context::Value(Arc::clone(&caller.context))),
                ));
            // Built anew by Cedar's public API (its own transitive closure): the caller's
            // principal and the schema's actions.
            let (fragment, _) = cedar_policy::SchemaFragment::from_cedarschema_str(schema).unwrap();
            let actions = Schema::from_schema_fragments([fragment])
                .unwrap()
                .action_entities()
                .unwrap();
            let entities = actions
                .add_entities(
                    caller
                        .entities
                        .iter()
                        .filter(|e| {
                            e.uid().entity_type().to_string()
                                != format!("{}::Action", self.namespace)
                        })
                        .map(|e| cedar_policy::Entity::from(e.clone())),
                    None,
                )
                .unwrap();
            let response =
                cedar_policy::Authorizer::new().is_authorized(&request, &self.policies, &entities);
            let sorted = |mut v: Vec<String>| {
                v.sort();
                v
            };
            let diagnostics = response.diagnostics();
            Judgement {
                allowed: response.decision() == cedar_policy::Decision::Allow,
                determining: sorted(diagnostics.reason().map(ToString::to_string).collect()),
                errors: sorted(diagnostics.errors().map(ToString::to_string).collect()),
            }
        }
    }

    /// A policy answer evaluates each policy at most once for every action, a decision
    /// the policies that name its action, and the two together share evaluations: each
    /// decides, names and errs exactly as Cedar does over the whole set, action by action.
    #[test]
    fn the_shortcuts_decide_exactly_as_cedar_over_the_whole_set() {
        use super::workload;
        // With one user's own policy, two policies that err for a token whose org_id is a
        // number, one whose condition is no boolean for a token whose admin is a string
        // (or errs without one), and constraints on the principal's type and the resource.
        let policies = format!(
            "{}{}",
            workload::cedar_policies(60),
            r#"@id("errs") permit(principal, action == MyAPI::Action::"get /users", resource) when { principal has org_id && principal.org_id like "org_*" };
            @id("user-a") permit(principal == MyAPI::User::"acme.us.auth0.com/|a", action in [MyAPI::Action::"get /users", MyAPI::Action::"get /health"], resource);
            @id("errs-forbid") forbid(principal, action, resource) when { principal has org_id && principal.org_id like "org_blocked*" };
            @id("admins") permit(principal, action == MyAPI::Action::"get /health", resource) when { principal.admin };
            @id("typed") permit(principal is MyAPI::User, action == MyAPI::Action::"get /reports", resource == MyAPI::Application::"MyAPI") when { principal has org_id };
            @id("typed-group") forbid(principal is MyAPI::User in MyAPI::UserGroup::"acme.us.auth0.com/|perm-10", action == MyAPI::Action::"get /reports", resource in MyAPI::Application::"MyAPI");"#
        );
        let schema =
            workload::cedar_schema().replace("org_id?: String", "org_id?: String, admin: Bool");
        let built = CedarPolicies::build(&settings(&policies, &schema)).unwrap();
        assert!(built.uniform);
        let mut erred = 0;
        let tokens = [
            serde_json::json!({"sub": "a", "permissions": ["read:messages", "perm-0", "perm-25"], "org_id": "org_6", "admin": "yes"}),
            serde_json::json!({"sub": "b", "permissions": "perm-10 perm-45", "org_id": "org_blocked_4", "scope": "blocked:2 x", "admin": true}),
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
            let mut cedar_errors = BTreeSet::new();
            for (action, allowed) in all.allowed.iter().enumerate() {
                let whole = built.judge_whole(&caller, action, &schema);
                let sorted = |mut j: Judgement| {
                    j.determining.sort();
                    j.errors.sort();
                    j
                };
                assert_eq!(
                    *allowed,
                    whole.allowed,
                    "{token} {}",
                    built.action_name(action)
                );
                let context = built.context(&caller, &[], None);
                let one = built.judge(&caller, action, &context);
                assert_eq!(sorted(one), whole, "{token} {}", built.action_name(action));
                // The called action judged from the policy answer's own evaluations.
                let (shared, with_all) = built.judge_with_all(&caller, action);
                assert_eq!(
                    sorted(shared),
                    whole,
                    "{token} {}",
                    built.action_name(action)
                );
                assert_eq!(with_all.allowed, all.allowed, "{token}");
                erred += whole.errors.len();
                cedar_errors.extend(whole.errors);
            }
            // The policy answer's errors are Cedar's, each once.
            let errors: BTreeSet<String> = all.errors.iter().cloned().collect();
            assert_eq!(errors.len(), all.errors.len(), "{token}");
            assert!(errors.is_subset(&cedar_errors), "{token}: {errors:?}");
        }
        assert!(erred > 20, "the erring policies erred {erred} times");
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

    /// A seal stands for one exact set validated by one exact validator: its own seal
    /// skips the validation (shown here by a set that does not validate, which only a
    /// hand-made seal could vouch for), and a seal of anything else is no seal.
    #[test]
    fn a_set_with_its_own_seal_is_not_validated_again_and_any_other_seal_is_ignored() {
        let schema = workload::cedar_schema();
        let invalid =
            "@id(\"typo\")\npermit(principal, action, resource) when { principal.org == \"o\" };";
        let with_seal = |policies: &str, seal: Option<String>| {
            CedarPolicies::build(&CedarSettings {
                seal,
                ..settings(policies, &schema)
            })
        };
        let refused = with_seal(invalid, None).unwrap_err().message;
        assert!(
            refused.contains("policy `typo` does not match the schema")
                && refused.contains("line 2, column"),
            "{refused}"
        );
        for stale in [
            seal(invalid, &schema.replace("org_id", "org")),
            seal(&format!("{invalid} "), &schema),
            seal(invalid, &schema).replace("sha256:", "sha256:0"),
            String::new(),
        ] {
            assert_eq!(
                with_seal(invalid, Some(stale)).unwrap_err().message,
                refused
            );
        }
        let sealed = with_seal(invalid, Some(seal(invalid, &schema))).unwrap();
        assert_eq!(sealed.validated, Validated::BySeal);
        // What is checked besides Cedar's validator is checked under any seal: the
        // syntax, ids, templates.
        for (policies, error) in [
            ("permit(principal, action, resource)", "policies: "),
            (
                "@id(\"a\") permit(principal, action, resource);\n@id(\"a\") forbid(principal, action, resource);",
                "policy `a`",
            ),
            (
                "permit(principal == ?principal, action, resource);",
                "holds a policy template",
            ),
        ] {
            let refused = with_seal(policies, Some(seal(policies, &schema)))
                .unwrap_err()
                .message;
            assert!(refused.contains(error), "{policies}: {refused}");
        }

        let valid = workload::cedar_policies(5);
        let own = seal(&valid, &schema);
        assert!(own.starts_with("sha256:") && own.len() == 7 + 64, "{own}");
        assert!(matches!(
            with_seal(&valid, None).unwrap().validated,
            Validated::Here(_)
        ));
        assert_eq!(with_seal(&valid, None).unwrap().seal, own);
        assert_eq!(
            with_seal(&valid, Some(own.clone())).unwrap().validated,
            Validated::BySeal
        );
        assert!(matches!(
            with_seal(&valid, Some(seal(invalid, &schema)))
                .unwrap()
                .validated,
            Validated::Here(_)
        ));
    }

    #[test]
    fn a_policy_that_reads_the_action_is_evaluated_action_by_action() {
        let schema = "namespace A { entity UserGroup; entity Application; entity User in [UserGroup]; action \"get /a\", \"get /b\" appliesTo { principal: User, resource: Application }; }";
        let built = CedarPolicies::build(&settings(
            "permit(principal, action, resource) when { action == A::Action::\"get /a\" };",
            schema,
        ))
        .unwrap();
        assert!(!built.uniform);
        let caller = built
            .caller(
                "https://idp.example",
                &claims(serde_json::json!({"sub": "s"})),
                &[],
            )
            .unwrap();
        let permitted = built.permitted(&caller).allowed;
        assert_eq!(permitted, [true, false]);
    }

    /// Actions in an action group: a scope's `action in` the group is settled when the set
    /// is sliced; a condition's `action in` it is evaluated with the schema's action
    /// entities. Both decide as Cedar does over the whole set.
    #[test]
    fn action_groups_decide_as_cedar_in_scopes_and_conditions() {
        let schema = "namespace A { entity UserGroup; entity Application; entity User in [UserGroup] { level: Long }; action reads; action \"get /a\", \"get /b\" in [reads] appliesTo { principal: User, resource: Application }; action \"post /a\" appliesTo { principal: User, resource: Application }; }";
        let scoped = r#"permit(principal, action in A::Action::"reads", resource) when { principal has level && principal.level > 1 };
            forbid(principal, action == A::Action::"get /b", resource) when { principal.level > 5 };"#;
        let conditioned = r#"permit(principal, action, resource) when { action in A::Action::"reads" || principal.level > 3 };"#;
        for (policies, uniform) in [(scoped, true), (conditioned, false)] {
            let built = CedarPolicies::build(&settings(policies, schema)).unwrap();
            assert_eq!(built.uniform, uniform, "{policies}");
            for level in [0, 2, 4, 7] {
                let caller = built
                    .caller(
                        "https://idp.example",
                        &claims(serde_json::json!({"sub": "s", "level": level})),
                        &[],
                    )
                    .unwrap();
                let all = built.permitted(&caller);
                for action in 0..built.action_count() {
                    let whole = built.judge_whole(&caller, action, schema);
                    let context = built.context(&caller, &[], None);
                    let mut one = built.judge(&caller, action, &context);
                    one.determining.sort();
                    one.errors.sort();
                    assert_eq!(
                        one,
                        whole,
                        "{policies} level {level} {}",
                        built.action_name(action)
                    );
                    assert_eq!(all.allowed[action], whole.allowed);
                }
            }
        }
    }
}
