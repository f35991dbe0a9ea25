// Node peers on the same tokens and keys: aws-jwt-verify (verifySync, JWKS cached) and
// jose (jwtVerify with a local JWKS). Prints one JSON line: {"aws-jwt-verify": {alg: ops/s}, ...}.
// usage: node peers.mjs DIR SECONDS   (DIR holds jwks.json and RS256.token, ES256.token, EdDSA.token)
import { readFileSync } from 'node:fs';
import { JwtVerifier } from 'aws-jwt-verify';
import { createLocalJWKSet, jwtVerify } from 'jose';

const [dir, seconds] = [process.argv[2], Number(process.argv[3] || 3)];
const jwks = JSON.parse(readFileSync(`${dir}/jwks.json`, 'utf8'));
const issuer = 'https://acme.us.auth0.com/';
const audience = 'https://api.acme.example';
const algs = ['RS256', 'ES256', 'EdDSA'];
const tokens = Object.fromEntries(algs.map((a) => [a, readFileSync(`${dir}/${a}.token`, 'utf8').trim()]));

function measure(fn) {
  const until = (ms) => { const end = process.hrtime.bigint() + BigInt(ms) * 1000000n; let n = 0; while (process.hrtime.bigint() < end) { fn(); n++; } return n; };
  until(300);
  const start = process.hrtime.bigint();
  const n = until(seconds * 1000);
  return Math.round(n / (Number(process.hrtime.bigint() - start) / 1e9));
}
async function measureAsync(fn) {
  const end0 = process.hrtime.bigint() + 300000000n; while (process.hrtime.bigint() < end0) await fn();
  const start = process.hrtime.bigint(); const end = start + BigInt(seconds * 1e9); let n = 0;
  while (process.hrtime.bigint() < end) { await fn(); n++; }
  return Math.round(n / (Number(process.hrtime.bigint() - start) / 1e9));
}

const result = { 'aws-jwt-verify': {}, jose: {} };
const verifier = JwtVerifier.create({ issuer, audience, jwksUri: 'https://unused.example/jwks' });
verifier.cacheJwks(jwks);
for (const alg of algs) {
  await verifier.verify(tokens[alg]); // proves it verifies
  result['aws-jwt-verify'][alg] = measure(() => verifier.verifySync(tokens[alg]));
}
const keySet = createLocalJWKSet(jwks);
for (const alg of algs) {
  await jwtVerify(tokens[alg], keySet, { issuer, audience, algorithms: [alg] });
  result.jose[alg] = await measureAsync(() => jwtVerify(tokens[alg], keySet, { issuer, audience, algorithms: [alg] }));
}
console.log(JSON.stringify(result));
