"""PyJWT on the same tokens and keys. usage: python pyjwt_bench.py DIR SECONDS; prints JSON."""
import json
import sys
import time

import jwt

directory, seconds = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
jwks = jwt.PyJWKSet.from_dict(json.load(open(f"{directory}/jwks.json")))
keys = {k.key_id: k.key for k in jwks.keys}
result = {}
for alg in ("RS256", "ES256", "EdDSA"):
    token = open(f"{directory}/{alg}.token").read().strip()

    def verify():
        header = jwt.get_unverified_header(token)
        return jwt.decode(token, keys[header["kid"]], algorithms=[alg], audience="https://api.acme.example",
                          issuer="https://acme.us.auth0.com/", options={"require": ["exp", "iss", "aud"]})

    verify()
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        verify()
    start = time.perf_counter()
    end = start + seconds
    n = 0
    while time.perf_counter() < end:
        verify()
        n += 1
    result[alg] = round(n / (time.perf_counter() - start))
print(json.dumps({"PyJWT": result}))
