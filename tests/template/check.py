"""Checks what template.yaml deploys, after the SAM transform (offline, with the
aws-sam-translator that ships in aws-sam-cli): least-privilege IAM, the authorizers'
wiring and caching, and the outputs. Run by scripts/test; exits non-zero on a failure."""
import json
import os
import re
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Policies:
    def load(self):
        return {"AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}


def documented_concurrency():
    """The PerExecutionEnvironmentMaxConcurrency of the snippet in template.yaml's comment."""
    with open(os.path.join(ROOT, "template.yaml")) as f:
        found = re.search(r"#\s+PerExecutionEnvironmentMaxConcurrency: (\d+)", f.read())
    return int(found.group(1)) if found else None


def translated(managed_instances=False):
    with open(os.path.join(ROOT, "template.yaml")) as f:
        template = yaml_parse(f.read())
    for name in ("AuthorizerFunction", "MessagesFunction", "MessagesVerifiedFunction"):
        template["Resources"][name]["Properties"]["CodeUri"] = "s3://bucket/code.zip"
    if managed_instances:
        # The snippet template.yaml documents for Lambda Managed Instances.
        properties = template["Resources"]["AuthorizerFunction"]["Properties"]
        properties["MemorySize"] = 2048
        properties["CapacityProviderConfig"] = {
            "Arn": "arn:aws:lambda:us-east-1:123456789012:capacity-provider:authorizers",
            "PerExecutionEnvironmentMaxConcurrency": documented_concurrency(),
        }
    return transform(template, {}, Policies())["Resources"]


failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


resources = translated()

# The authorizer's role: basic execution plus three statements, each behind its condition,
# each on one scoped resource.
role = resources["AuthorizerFunctionRole"]["Properties"]
check(role.get("ManagedPolicyArns") == ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
      f"authorizer managed policies: {role.get('ManagedPolicyArns')}")
expected = {
    "HasConfigParameter": (["ssm:GetParameter"], "parameter${ConfigParameter}"),
    "HasConfigKmsKey": (["kms:Decrypt"], None),
    "HasJwksSnapshot": (["ssm:GetParameter", "ssm:PutParameter"], "parameter${JwksSnapshotParameter}/*"),
    "HasIntrospectionSecret": (["ssm:GetParameter"], "parameter${IntrospectionSecretParameter}"),
    "HasDpopReplayTable": (["dynamodb:PutItem"], "DpopReplayTable"),
}
seen = set()
for policy in role.get("Policies", []):
    condition, body, _ = policy.get("Fn::If", [None, None, None])
    check(condition in expected, f"unconditional or unexpected inline policy: {json.dumps(policy)[:200]}")
    if condition not in expected:
        continue
    seen.add(condition)
    actions, resource = expected[condition]
    for statement in body["PolicyDocument"]["Statement"]:
        got = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        check(sorted(got) == sorted(actions), f"{condition}: actions {got}")
        check(statement["Resource"] != "*", f"{condition}: Resource *")
        if resource:
            check(resource in json.dumps(statement["Resource"]), f"{condition}: resource {statement['Resource']}")
        if condition == "HasConfigKmsKey":
            check("kms:ViaService" in json.dumps(statement.get("Condition")), "kms:Decrypt without kms:ViaService")
check(seen == set(expected), f"missing conditional policies: {set(expected) - seen}")

# The DPoP replay table: keyed by pk, emptied by TTL on expires_at, only with DpopReplay,
# and named to the function.
table = resources["DpopReplayTable"]
check(table.get("Condition") == "HasDpopReplayTable", "the replay table exists only with DpopReplay")
check(table["Properties"]["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}], "replay table key")
check(table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True},
      "replay table TTL")
with open(os.path.join(ROOT, "src/replay/table.rs")) as f:
    table_code = f.read()
check('"pk"' in table_code and '"expires_at"' in table_code, "the table's attributes are the code's")
check(resources["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]["DPOP_REPLAY_TABLE"]
      == {"Fn::If": ["HasDpopReplayTable", {"Ref": "DpopReplayTable"}, {"Ref": "AWS::NoValue"}]},
      "the function is told its replay table")

# The REST API's TOKEN authorizer (in its OpenAPI body): header identity, validation
# expression, result caching.
rest = resources["RestApi"]["Properties"]["Body"]["securityDefinitions"]["TokenVerifier"]["x-amazon-apigateway-authorizer"]
check(rest["type"] == "token", "REST authorizer type")
check(resources["RestApi"]["Properties"]["Body"]["securityDefinitions"]["TokenVerifier"]["name"] == "Authorization", "REST identity header")
check(rest.get("identityValidationExpression", "").startswith("^[Bb][Ee][Aa][Rr][Ee][Rr]"), "validation expression")
check(rest.get("authorizerResultTtlInSeconds") in (300, {"Ref": "AuthorizerResultTtlSeconds"}), "REST caching")

# The HTTP API's Lambda authorizer: payload 2.0, simple responses, invoke permissions.
http = resources["HttpApi"]["Properties"]["Body"]["components"]["securitySchemes"]["TokenVerifier"]["x-amazon-apigateway-authorizer"]
check(http["authorizerPayloadFormatVersion"] == "2.0", "HTTP payload format")
check(http["enableSimpleResponses"] is True, "HTTP simple responses")
# Keyed by route too: a cached simple response must not answer for another route.
check(sorted(http["identitySource"]) == ["$context.routeKey", "$request.header.Authorization"], f"HTTP identity source {http['identitySource']}")
check("HttpApiTokenVerifierAuthorizerPermission" in resources, "HTTP API may invoke the authorizer")
check("RestApiTokenVerifierAuthorizerPermission" in resources, "REST API may invoke the authorizer")

# Runtime, architecture, logs.
function = resources["AuthorizerFunction"]["Properties"]
check(function["Runtime"] == "provided.al2023", "runtime")
check(function["Architectures"] == [{"Ref": "Architecture"}], "architecture parameter")
check(function["LoggingConfig"]["LogFormat"] == "JSON", "JSON logs")
check(resources["AuthorizerLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, "log retention")

# Alarms and dashboard: on metrics the function really writes (src/telemetry/metrics.rs), for this
# function, in the configured namespace.
with open(os.path.join(ROOT, "src/telemetry/metrics.rs")) as f:
    written = f.read()
for name in ("KeysUnavailableAlarm", "KeyFetchFailuresAlarm", "OpaqueUnavailableAlarm"):
    alarm = resources[name]["Properties"]
    check(f'"Name":"{alarm["MetricName"]}"' in written, f"{name}: metric {alarm['MetricName']} is not written")
    check(alarm["Namespace"] == {"Ref": "MetricsNamespace"}, f"{name}: namespace")
    check({"Name": "Function", "Value": {"Ref": "AuthorizerFunction"}} in alarm["Dimensions"], f"{name}: Function dimension")
    check(alarm["TreatMissingData"] == "notBreaching", f"{name}: missing data must not alarm")
unavailable = resources["KeysUnavailableAlarm"]["Properties"]["Dimensions"]
check({"Name": "Reason", "Value": "jwks_unavailable"} in unavailable, "alarm on the jwks_unavailable reason")
opaque_alarm = resources["OpaqueUnavailableAlarm"]
check({"Name": "Reason", "Value": "introspection_unavailable"} in opaque_alarm["Properties"]["Dimensions"],
      "alarm on the introspection_unavailable reason")
check(opaque_alarm.get("Condition") == "ValidatesOpaqueTokens", "the opaque alarm exists only with opaque tokens")
body = resources["AuthorizerDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
for metric in ("Decisions", "Latency", "KeyFetches", "KeyFetchFailures", "StaleKeysServed", "CooldownRejections",
               "OpaqueLookups", "OpaqueCacheHits"):
    check(f'"{metric}"' in body and (f'"Name":"{metric}"' in written or f'"{metric}"' in written),
          f"dashboard metric {metric}")
substituted = body
for placeholder, value in (("${AWS::Region}", "us-east-1"), ("${Ns}", "TokenVerifier"), ("${AuthorizerFunction}", "fn")):
    substituted = substituted.replace(placeholder, value)
try:
    check(len(json.loads(substituted)["widgets"]) == 4, "dashboard widgets")
except ValueError as error:
    check(False, f"dashboard body is not JSON after substitution: {error}")
check(function["Environment"]["Variables"]["METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}, "namespace passed to the function")

# The sample API behind a Function URL (the tower layer): public URL, the authorizer's
# configuration, only the configuration parameter's read (and its key) in its role.
verified = resources["MessagesVerifiedFunction"]
check(verified.get("Condition") == "VerifiesInFunction", "the Function URL form exists only with an issuer")
url = resources.get("MessagesVerifiedFunctionUrl", {}).get("Properties", {})
check(url.get("AuthType") == "NONE", f"Function URL auth type: {url.get('AuthType')}")
# A public Function URL needs both permissions (lambda:InvokeFunctionUrl, and since Oct 2025
# lambda:InvokeFunction restricted to calls through the URL).
public = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"
          and r["Properties"].get("FunctionName") == {"Ref": "MessagesVerifiedFunction"}]
check(sorted(p["Action"] for p in public) == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]
      and all(p.get("FunctionUrlAuthType") == "NONE" or p.get("InvokedViaFunctionUrl") is True for p in public),
      f"Function URL permissions: {public}")
verified_env = verified["Properties"]["Environment"]["Variables"]
authorizer_env = function["Environment"]["Variables"]
for name in ("TOKEN_ISSUER", "AUDIENCE", "IDP_PRESET", "JWKS_URI", "CONFIG_PARAMETER", "ALLOWED_ALGORITHMS", "REQUIRED_SCOPES",
             "SENDER_CONSTRAINT", "DPOP_REPLAY_TABLE"):
    check(verified_env.get(name) == authorizer_env.get(name), f"the Function URL form's {name} is not the authorizer's")
verified_role = resources["MessagesVerifiedFunctionRole"]["Properties"]
conditions = sorted(p.get("Fn::If", [None])[0] for p in verified_role.get("Policies", []))
check(conditions == ["HasConfigKmsKey", "HasConfigParameter", "HasDpopReplayTable"], f"Function URL form's role: {conditions}")

# Sender-constrained tokens and API Gateway's result cache exclude each other: a rule says so.
with open(os.path.join(ROOT, "template.yaml")) as f:
    rules = yaml_parse(f.read()).get("Rules", {})
rule = rules.get("SenderConstraintWithoutResultCache", {})
check("SenderConstraint" in json.dumps(rule.get("RuleCondition")) and
      "AuthorizerResultTtlSeconds" in json.dumps(rule.get("Assertions")),
      f"no rule keeps the result cache off with SenderConstraint: {rule}")

rule = rules.get("DpopReplayNeedsSenderConstraint", {})
check("DpopReplay" in json.dumps(rule.get("RuleCondition")) and
      "SenderConstraint" in json.dumps(rule.get("Assertions")),
      f"no rule keeps the replay table to stacks that check proofs: {rule}")

# The documented Lambda Managed Instances variant transforms, and keeps the same wiring.
managed = translated(managed_instances=True)
lmi = managed["AuthorizerFunction"]["Properties"].get("CapacityProviderConfig", {}).get(
    "LambdaManagedInstancesCapacityProviderConfig", {})
check(lmi.get("CapacityProviderArn", "").endswith(":capacity-provider:authorizers"), f"managed instances config: {lmi}")
check(lmi.get("PerExecutionEnvironmentMaxConcurrency") == 16, "managed instances concurrency")
check("RestApiTokenVerifierAuthorizerPermission" in managed, "managed instances: REST API may invoke the authorizer")
with open(os.path.join(ROOT, "template.yaml")) as f:
    check("#   CapacityProviderConfig:" in f.read(), "template.yaml documents CapacityProviderConfig")

if failures:
    print("template check failed:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("template check passed: least-privilege IAM, authorizer wiring, caching, logs, alarms, dashboard, Function URL form, sender-constraint rule, managed-instances variant")
