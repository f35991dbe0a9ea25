"""Validates the configuration examples against config.schema.json, and checks that the
schema refuses what the authorizer refuses (run by scripts/test)."""
import json
import os
import sys

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
schema = json.load(open(os.path.join(ROOT, "config.schema.json")))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)

valid = [json.load(open(os.path.join(ROOT, "docs/config.example.json")))]
invalid = [
    {"issuers": [{"issuer": "https://x/", "audince": ["a"]}]},
    {"issuers": [{"issuer": "https://x/", "audiences": []}]},
    {"issuers": [{"issuer": "https://x/", "audiences": ["a"], "algorithms": ["HS256"]}]},
    {"issuers": [{"issuer": "https://x/", "audiences": ["a"], "preset": "ping"}]},
    {"issuers": [{"issuer": "https://x/", "audiences": ["a"], "jwks_uri": "https://x/k", "jwks": {"keys": []}}]},
    {"routes": {"default": "maybe", "rules": []}},
    {"routes": {"rules": [{"route": "messages"}]}},
    {"http": {"timeout_ms": 20000}},
    {"cache": {"ttl_seconds": "600"}},
    {"extra": 1},
    {"dpop": {"max_age_seconds": 0}},
    {"dpop": {"algorithms": ["none"]}},
    {"authorization": {"cedar": {"policies": "permit(principal, action, resource);"}}},
    {"authorization": {"cedar": {"policies": "", "schema": "namespace A {}"}}},
    {"authorization": {"opa": {}}},
    {"authorization": {"cedar": {"policies": "permit(principal, action, resource);", "schema": "namespace A {}",
                                 "seal": "sha256:abc"}}},
    {"gateway": {"public_base_url": "api.example.com/v1"}},
    {"issuers": [{"issuer": "https://x/", "audiences": ["a"], "opaque_tokens": {"mode": "introspection"}}]},
    {"issuers": [{"issuer": "https://x/", "audiences": ["a"], "opaque_tokens": {"mode": "userinfo", "client_id": "c"}}]},
    {"issuers": [{"issuer": "https://x/", "audiences": ["a"], "opaque_tokens": {"mode": "userinfo", "cache_seconds": 301}}]},
]
valid.append({"issuers": [{"issuer": "https://x/", "audiences": ["a"], "opaque_tokens": {
    "mode": "introspection", "client_id": "authorizer", "client_secret_parameter": "/tv/secret", "cache_seconds": 30}}]})
valid.append({"authorization": {"cedar": {"policies": "permit(principal, action, resource);", "schema": "namespace A {}",
                                          "seal": "sha256:" + "0f" * 32}}})
failures = []
for document in valid:
    errors = list(validator.iter_errors(document))
    if errors:
        failures.append(f"example refused: {errors[0].message}")
for document in invalid:
    if validator.is_valid(document):
        failures.append(f"schema accepts an invalid document: {json.dumps(document)}")
if failures:
    print("schema check failed:\n  " + "\n  ".join(failures))
    sys.exit(1)
print(f"schema check passed: {len(valid)} example valid, {len(invalid)} invalid documents refused")
