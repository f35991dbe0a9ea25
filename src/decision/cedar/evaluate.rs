//! Cedar's own evaluator (`cedar-policy-core`, the crate `cedar-policy` is built on, at
//! the version it pins) over each policy's condition, prepared once when the set is built.
//!
//! `Authorizer::is_authorized` rebuilds every policy's condition expression per call and
//! answers with hash maps of policy ids; the decision here is Cedar's rule itself, over
//! the same evaluation: a request is allowed when some `permit` holds and no `forbid`
//! does; a policy that errs is skipped and its error reported; the determining policies
//! are the `forbid`s that hold, else the `permit`s that hold. A unit test holds every
//! decision and error to `is_authorized` over the whole set.
//!
//! What policies read is found here too, by walking their conditions.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cedar_policy_core::ast::{
    self, Effect, EntityReference, Expr, ExprKind, ExprShapeOnly, Literal,
    PrincipalOrResourceConstraint, ValueKind, Var,
};
use cedar_policy_core::entities::{Entities, NoEntitiesSchema, TCComputation};
use cedar_policy_core::evaluator::{Evaluator, RestrictedEvaluator};
use cedar_policy_core::extensions::Extensions;

use smol_str::SmolStr;

use super::Judgement;
use super::entities::Reads;

/// One policy, ready to evaluate for the actions its scope names (a caller asks it of
/// no other: [`super::CedarPolicies`] slices the policies per action at init).
pub(crate) struct Rule {
    /// Its id (the `@id` annotation, else Cedar's `policyN`).
    pub(crate) id: String,
    pub(crate) forbids: bool,
    /// Cedar's condition without the action constraint (which holds for every action the
    /// rule is asked of) as its conjuncts (`a && b && c`: `a`, `b`, `c`), in Cedar's order
    /// of evaluation, as indices of the set's [`Parts`]: the principal constraint unless
    /// `principal` below settles it, the resource constraint unless it is `resource` alone,
    /// the `when`/`unless` conditions. What they give is the same for every such action
    /// unless one reads `action`.
    parts: Vec<usize>,
    /// The principal its scope names (`principal == U`, `principal in G`): a caller that
    /// is not it, nor one of its children, cannot satisfy it, and `in`/`==` never err.
    principal: Option<(bool, Arc<ast::EntityUID>)>,
    /// Whether the scope is all there is (resource any, no `when` nor `unless`): then a
    /// principal that matches satisfies it for every action its scope names.
    scope_only: bool,
}

/// The distinct conjuncts of every rule's condition (alike in shape, wherever they are):
/// one request evaluates each at most once, however many rules share it
/// (`principal has org_id` guarding many conditions). A conjunct's value depends on the
/// request alone: policies have no slots (the set refuses templates).
pub(crate) struct Parts {
    exprs: Vec<Expr>,
    /// The slots they are evaluated with: none.
    slots: ast::SlotEnv,
}

/// [`Parts`] as the rules are built: each new conjunct, by its shape.
#[derive(Default)]
pub(crate) struct Interner {
    exprs: Vec<Expr>,
    index: HashMap<ExprShapeOnly<'static>, usize>,
}

impl Interner {
    fn intern(&mut self, part: Expr) -> usize {
        let next = self.exprs.len();
        let index = *self
            .index
            .entry(ExprShapeOnly::new_from_owned(part.clone()))
            .or_insert(next);
        if index == next {
            self.exprs.push(part);
        }
        index
    }

    /// The conjuncts, without the index that found them.
    pub(crate) fn finish(self) -> Parts {
        Parts {
            exprs: self.exprs,
            slots: ast::SlotEnv::new(),
        }
    }
}

/// What one conjunct gave, in one request.
enum Part {
    True,
    False,
    /// Cedar's error, in its words: the conjunct's own, or the type error of `&&` for a
    /// value that is no boolean (an entity's data against its schema).
    Refused(String),
}

/// One request's evaluation: Cedar's evaluator for it, the caller as a policy's scope sees
/// it, and the conjuncts asked so far.
pub(crate) struct Asking<'a> {
    evaluator: Evaluator<'a>,
    caller: Principal<'a>,
    parts: &'a Parts,
    asked: Vec<Option<Part>>,
}

impl<'a> Asking<'a> {
    pub(crate) fn new(evaluator: Evaluator<'a>, caller: Principal<'a>, parts: &'a Parts) -> Self {
        Asking {
            evaluator,
            caller,
            parts,
            asked: std::iter::repeat_with(|| None)
                .take(parts.exprs.len())
                .collect(),
        }
    }

    /// Whether `rule` holds for this request, whose action its scope names: its conjuncts
    /// in order, each evaluated once per request, until one is false (as Cedar's `&&`
    /// stops) or refused (Cedar's error, the first in its order of evaluation).
    pub(crate) fn holds(&mut self, rule: &Rule) -> Holds {
        if let Some((hierarchy, named)) = &rule.principal {
            let names = **named == *self.caller.uid
                || (*hierarchy && self.caller.groups.iter().any(|g| g == &**named));
            if !names {
                return Ok(false);
            }
            if rule.scope_only {
                return Ok(true);
            }
        }
        for &index in &rule.parts {
            match self.part(index) {
                Part::True => {}
                Part::False => return Ok(false),
                Part::Refused(error) => {
                    return Err(format!(
                        "error while evaluating policy `{}`: {error}",
                        rule.id
                    ));
                }
            }
        }
        Ok(true)
    }

    /// What conjunct `index` gives, evaluated the first time it is asked.
    fn part(&mut self, index: usize) -> &Part {
        let (evaluator, parts) = (&self.evaluator, self.parts);
        self.asked[index]
            .get_or_insert_with(|| evaluate_part(evaluator, &parts.exprs[index], &parts.slots))
    }
}

/// What a conjunct gives: a boolean, or Cedar's words for why it gives none.
fn evaluate_part(evaluator: &Evaluator<'_>, expr: &Expr, slots: &ast::SlotEnv) -> Part {
    let value = match evaluator.interpret(expr, slots) {
        Ok(value) => value,
        Err(error) => return Part::Refused(error.to_string()),
    };
    match value.value_kind() {
        ValueKind::Lit(Literal::Bool(true)) => Part::True,
        ValueKind::Lit(Literal::Bool(false)) => Part::False,
        // No boolean: asked again inside `true && …`, for the words of Cedar's own `&&`
        // (which name the value's type; the value, a claim's, is never written).
        _ => Part::Refused(
            match evaluator.interpret(&Expr::and(Expr::val(true), expr.clone()), slots) {
                Err(error) => error.to_string(),
                Ok(_) => "type error: expected bool".to_owned(),
            },
        ),
    }
}

/// `a && b` as `[a, b]`, and so on down the left and right sides.
fn conjuncts(expr: &Expr, out: &mut Vec<Expr>) {
    match expr.expr_kind() {
        ExprKind::And { left, right } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        _ => out.push(expr.clone()),
    }
}

/// The caller as a policy's principal scope sees it: its uid and its groups (its
/// entity's parents; no group has parents of its own).
pub(crate) struct Principal<'c> {
    pub(crate) uid: &'c ast::EntityUID,
    pub(crate) groups: &'c [ast::EntityUID],
}

/// Whether a policy holds; `Err` is Cedar's evaluation error, as `is_authorized` words it.
pub(crate) type Holds = Result<bool, String>;

impl Rule {
    pub(crate) fn new(policy: &cedar_policy::Policy, shared: &mut Interner) -> Rule {
        let policy: &ast::Policy = policy.as_ref();
        let principal = match policy.principal_constraint().into_inner() {
            PrincipalOrResourceConstraint::Eq(EntityReference::EUID(uid)) => Some((false, uid)),
            PrincipalOrResourceConstraint::In(EntityReference::EUID(uid)) => Some((true, uid)),
            _ => None,
        };
        let any =
            |c: &PrincipalOrResourceConstraint| matches!(c, PrincipalOrResourceConstraint::Any);
        let resource_any = any(policy.resource_constraint().as_inner());
        // The parts of Cedar's condition that can be false, in its order: the principal
        // constraint unless `holds` settles it first (`==` or `in` an entity: not asked
        // again of Cedar's entity store, a hashed lookup per policy), the resource
        // constraint unless it is `resource` alone, the `when`/`unless` conditions.
        let mut parts = Vec::new();
        if principal.is_none() && !any(policy.principal_constraint().as_inner()) {
            conjuncts(&policy.principal_constraint().as_expr(), &mut parts);
        }
        if !resource_any {
            conjuncts(&policy.resource_constraint().as_expr(), &mut parts);
        }
        if let Some(conditions) = policy.non_scope_constraints() {
            conjuncts(conditions, &mut parts);
        }
        Rule {
            parts: parts.into_iter().map(|part| shared.intern(part)).collect(),
            principal,
            scope_only: policy.non_scope_constraints().is_none() && resource_any,
            id: policy.id().to_string(),
            forbids: policy.effect() == Effect::Forbid,
        }
    }
}

/// An evaluator for one request.
pub(crate) fn evaluator<'e>(
    principal: &Arc<ast::EntityUID>,
    action: &Arc<ast::EntityUID>,
    resource: &Arc<ast::EntityUID>,
    context: &ast::Context,
    entities: &'e Entities,
) -> Evaluator<'e> {
    let known = |uid: &Arc<ast::EntityUID>| ast::EntityUIDEntry::Known {
        euid: Arc::clone(uid),
        loc: None,
    };
    let request = ast::Request::new_unchecked(
        known(principal),
        known(action),
        known(resource),
        Some(context.clone()),
    );
    Evaluator::new(request, entities, Extensions::all_available())
}

/// The entities of one request: the principal (whose parents, its groups, are no
/// entities themselves: its ancestors are already closed) and the schema's actions.
pub(crate) fn entities(
    principal: ast::Entity,
    actions: Option<&Entities>,
) -> Result<Entities, String> {
    let built = match actions {
        Some(actions) => actions.clone().add_entities(
            [Arc::new(principal)],
            None::<&NoEntitiesSchema>,
            TCComputation::AssumeAlreadyComputed,
            Extensions::all_available(),
        ),
        None => Entities::from_entities(
            [principal],
            None::<&NoEntitiesSchema>,
            TCComputation::AssumeAlreadyComputed,
            Extensions::all_available(),
        ),
    };
    built.map_err(|e| format!("the principal is no Cedar entity: {e}"))
}

/// An IP address (v4 or v6) as Cedar's `ipaddr` value; `None` for anything else.
pub(crate) fn ip(address: &str) -> Option<ast::Value> {
    address.parse::<std::net::IpAddr>().ok()?;
    let call = cedar_policy::RestrictedExpression::new_ip(address);
    let expression: &ast::RestrictedExpr = call.as_ref();
    RestrictedEvaluator::new(Extensions::all_available())
        .interpret(expression.as_borrowed())
        .ok()
}

/// Whether Cedar allows an action, asking only what decides it: some permit naming it
/// holds (the first found ends the search), and no forbid naming it holds. `holds(i)`:
/// whether policy `i` holds, an error counting as not (Cedar skips a policy that errs).
pub(crate) fn allows(
    named: &[usize],
    rules: &[Rule],
    mut holds: impl FnMut(usize) -> bool,
) -> bool {
    named.iter().any(|&i| !rules[i].forbids && holds(i))
        && !named.iter().any(|&i| rules[i].forbids && holds(i))
}

/// Cedar's decision for an action from every policy naming it (`named`) and what each
/// gave (`holds(i)`): allowed when a permit holds and no forbid does; the determining
/// policies the forbids that hold, else the permits that hold; the errors of those that
/// erred (skipped, as Cedar specifies).
pub(crate) fn decide(
    named: &[usize],
    rules: &[Rule],
    mut holds: impl FnMut(usize) -> Holds,
) -> Judgement {
    let (mut permits, mut forbids, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for &index in named {
        let rule = &rules[index];
        match holds(index) {
            Ok(true) if rule.forbids => forbids.push(rule.id.clone()),
            Ok(true) => permits.push(rule.id.clone()),
            Ok(false) => {}
            Err(error) => errors.push(error),
        }
    }
    Judgement {
        allowed: forbids.is_empty() && !permits.is_empty(),
        determining: if forbids.is_empty() { permits } else { forbids },
        errors,
    }
}

/// What a policy's conditions read.
#[derive(Debug, Default)]
pub(crate) struct PolicyReads {
    /// `action`, anywhere in its conditions.
    pub(crate) action: bool,
    /// A member of the context that comes from the request, or the context whole.
    pub(crate) request_context: bool,
    /// The members of the context it reads by name (`context.x`, `context has x`).
    pub(crate) context_members: Vec<SmolStr>,
}

/// Walks a policy's conditions: the claims read as attributes of `principal` and as
/// members of `context.token` (`context.token` or `context` used whole reads every
/// claim), and whether it reads `action` or the request's own context.
pub(crate) fn reads(
    policy: &cedar_policy::Policy,
    request_members: &[&str],
    principal: &mut Reads,
    token: &mut Reads,
) -> PolicyReads {
    let policy: &ast::Policy = policy.as_ref();
    let mut found = PolicyReads::default();
    let Some(conditions) = policy.non_scope_constraints() else {
        return found;
    };
    let is_var = |e: &Expr, var: Var| matches!(e.expr_kind(), ExprKind::Var(v) if *v == var);
    let is_token = |e: &Expr| matches!(e.expr_kind(), ExprKind::GetAttr { expr, attr } if attr == "token" && is_var(expr, Var::Context));
    // The expressions whose member is read (`x` of `x.a`, `x has a`): used whole, the
    // others.
    let mut accessed: HashSet<*const Expr> = HashSet::new();
    for e in conditions.subexpressions() {
        let (target, first, second) = match e.expr_kind() {
            ExprKind::GetAttr { expr, attr } | ExprKind::HasAttr { expr, attr } => {
                (expr, attr.as_str(), None)
            }
            ExprKind::ExtHasAttr { expr, attrs } => (
                expr,
                attrs.first().as_str(),
                attrs.get(1).map(SmolStr::as_str),
            ),
            ExprKind::Var(Var::Action) => {
                found.action = true;
                continue;
            }
            _ => continue,
        };
        accessed.insert(Arc::as_ptr(target));
        if is_var(target, Var::Principal) {
            principal.add(first);
        } else if is_var(target, Var::Context) {
            if request_members.contains(&first) {
                found.request_context = true;
            }
            if !found.context_members.iter().any(|m| m == first) {
                found.context_members.push(SmolStr::new(first));
            }
            // `context has token.scope`
            if let (true, Some(member)) = (first == "token", second) {
                token.add(member);
            }
        } else if is_token(target) {
            token.add(first);
        }
    }
    for e in conditions.subexpressions() {
        let whole = !accessed.contains(&std::ptr::from_ref(e));
        if whole && is_var(e, Var::Context) {
            // The context whole (compared, or passed on): it holds the request's parts.
            found.request_context = true;
            *token = Reads::All;
        } else if whole && is_token(e) {
            *token = Reads::All;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// Conjuncts alike in shape are one part, wherever they stand; the rest are their own.
    #[test]
    fn alike_conjuncts_are_one_part() {
        let set = cedar_policy::PolicySet::from_str(
            r#"permit(principal, action, resource) when { principal has org_id && principal.org_id == "a" };
            forbid(principal, action, resource) when {
                principal has org_id
                && principal.org_id == "b" } unless { context.x };"#,
        )
        .unwrap();
        let mut interner = Interner::default();
        let mut rules: Vec<Rule> = set
            .policies()
            .map(|policy| Rule::new(policy, &mut interner))
            .collect();
        let parts = interner.finish();
        rules.sort_by_key(|rule| rule.parts.len());
        assert_eq!(parts.exprs.len(), 4);
        assert_eq!(rules[0].parts.len(), 2);
        assert_eq!(rules[1].parts.len(), 3);
        assert_eq!(rules[0].parts[0], rules[1].parts[0], "principal has org_id");
        assert_ne!(rules[0].parts[1], rules[1].parts[1]);
    }
}
