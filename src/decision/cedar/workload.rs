//! The Cedar part of the benchmark workload (`tool::dev::workload`): a schema of 20
//! actions and policy sets of any size over them, also what the unit tests hold the
//! evaluation shortcuts to.

/// The 20 actions of the workload's Cedar schema (Verified Permissions' names).
pub const CEDAR_ACTIONS: [&str; 20] = [
    "get /messages",
    "post /messages",
    "get /messages/{id}",
    "put /messages/{id}",
    "delete /messages/{id}",
    "get /messages/{id}/replies",
    "post /messages/{id}/replies",
    "get /users",
    "get /users/me",
    "get /users/{id}",
    "patch /users/{id}",
    "delete /users/{id}",
    "get /orgs/{org}",
    "get /orgs/{org}/members",
    "post /orgs/{org}/members",
    "delete /orgs/{org}/members/{id}",
    "get /reports",
    "get /reports/{id}",
    "post /admin/{proxy+}",
    "get /health",
];

/// The workload's Cedar schema: namespace `MyAPI`, [`CEDAR_ACTIONS`], a user with an
/// `org_id`, the token's scopes in the context.
#[must_use]
pub fn cedar_schema() -> String {
    let actions: Vec<String> = CEDAR_ACTIONS.iter().map(|a| format!("{a:?}")).collect();
    format!(
        "namespace MyAPI {{\n  entity UserGroup;\n  entity Application;\n  entity User in [UserGroup] {{ org_id?: String }};\n  type Token = {{ scope?: Set<String> }};\n  action {} appliesTo {{ principal: User, resource: Application, context: {{ token: Token, scopes: Set<String> }} }};\n}}\n",
        actions.join(", ")
    )
}

/// `count` Cedar policies over [`CEDAR_ACTIONS`], of five kinds in turn: a group's
/// permit of three actions (groups are the token's `permissions`), a permit for one
/// organisation, a forbid on a scope, a permit of one action for `read:messages`, a
/// forbid for another organisation. The workload's token is permitted some actions
/// and forbidden others.
#[must_use]
pub fn cedar_policies(count: usize) -> String {
    let action = |i: usize| {
        format!(
            "MyAPI::Action::{:?}",
            CEDAR_ACTIONS[i % CEDAR_ACTIONS.len()]
        )
    };
    let mut out = String::new();
    for i in 0..count {
        let policy = match i % 5 {
            0 => format!(
                "@id(\"group-{i}\")\npermit(principal in MyAPI::UserGroup::\"acme.us.auth0.com/|perm-{i}\", action in [{}, {}, {}], resource);\n",
                action(i),
                action(i + 1),
                action(i + 2)
            ),
            1 => format!(
                "@id(\"org-{i}\")\npermit(principal, action == {}, resource) when {{ principal has org_id && principal.org_id == \"org_{i}\" }};\n",
                action(i)
            ),
            2 => format!(
                "@id(\"scope-block-{i}\")\nforbid(principal, action == {}, resource) when {{ context.token has scope && context.token.scope.contains(\"blocked:{i}\") }};\n",
                action(i)
            ),
            3 => format!(
                "@id(\"readers-{i}\")\npermit(principal in MyAPI::UserGroup::\"acme.us.auth0.com/|read:messages\", action == {}, resource) when {{ context.scopes.contains(\"read:messages\") }};\n",
                action(i - 3)
            ),
            _ => format!(
                "@id(\"org-block-{i}\")\nforbid(principal, action == {}, resource) when {{ principal has org_id && principal.org_id == \"org_blocked_{i}\" }};\n",
                action(i + 3)
            ),
        };
        out.push_str(&policy);
    }
    out
}
