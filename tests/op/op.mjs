// A real OpenID Provider (panva/oidc-provider, OpenID Certified) on loopback, for
// token-verifier's end-to-end tests. It issues JWT access tokens (typ at+jwt) for a
// client_credentials client through resource indicators, one signing algorithm per API:
//   resource https://api.example.com/rs256 -> RS256, /ps256 -> PS256, /es256 -> ES256, /eddsa -> EdDSA
// Without a resource it issues an OPAQUE access token: the forum case of an app that asked
// for no audience. GET /test/id-token returns an ID token the provider signs for the client
// (its IdToken model, as after a login), so tests can send one where an access token belongs;
// GET /test/user-access-token returns an opaque access token for user-1 with scope
// "openid email" (a grant and an AccessToken, as after a login), which /me (userinfo) and
// /token/introspection answer for. The client svc-mtls gets certificate-bound access tokens
// (RFC 8705, cnf.x5t#S256) for the client certificate a test sends, URL-encoded PEM, in the
// x-ssl-client-cert header (as a TLS-terminating proxy would).
//
// Environment: PORT (default 14000), KEY_GENERATION (kid suffix; restart with another value
// to rotate every key). Listens on 127.0.0.1 only.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 14000);
const issuer = `http://127.0.0.1:${port}`;
const generation = process.env.KEY_GENERATION || '1';
const API = 'https://api.example.com';
const ALGS = { rs256: 'RS256', ps256: 'PS256', es256: 'ES256', eddsa: 'EdDSA' };

const jwk = (type, options, kid, alg) => ({
  ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
  kid, alg, use: 'sig',
});

const provider = new Provider(issuer, {
  jwks: {
    keys: [
      jwk('rsa', { modulusLength: 2048 }, `rs256-${generation}`, 'RS256'),
      jwk('rsa', { modulusLength: 2048 }, `ps256-${generation}`, 'PS256'),
      jwk('ec', { namedCurve: 'P-256' }, `es256-${generation}`, 'ES256'),
      jwk('ed25519', {}, `eddsa-${generation}`, 'EdDSA'),
    ],
  },
  clients: [{
    client_id: 'svc',
    client_secret: 'svc-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  }, {
    client_id: 'svc-mtls',
    client_secret: 'svc-mtls-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    tls_client_certificate_bound_access_tokens: true,
  }],
  scopes: ['read:messages', 'write:messages'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, email: `${id}@example.com`, email_verified: true }),
  }),
  enabledJWA: {
    idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      getCertificate: (ctx) => {
        const pem = ctx.get('x-ssl-client-cert');
        return pem ? decodeURIComponent(pem) : undefined;
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        const suffix = resource.startsWith(`${API}/`) ? resource.slice(API.length + 1) : '';
        const alg = ALGS[suffix];
        if (!alg) throw new Error(`unknown resource ${resource}`);
        return {
          scope: 'read:messages write:messages',
          audience: resource,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        };
      },
    },
  },
});

provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/test/id-token') {
    const client = await provider.Client.find('svc');
    const token = new provider.IdToken({ sub: 'user-1', email: 'user-1@example.com' }, { client });
    token.scope = 'openid email';
    token.set('nonce', 'n-0S6_WzA2Mj');
    ctx.body = { id_token: await token.issue({ use: 'idtoken' }) };
    return;
  }
  if (ctx.method === 'GET' && ctx.path === '/test/user-access-token') {
    const client = await provider.Client.find('svc');
    const grant = new provider.Grant({ accountId: 'user-1', clientId: 'svc' });
    grant.addOIDCScope('openid email');
    const grantId = await grant.save();
    const token = new provider.AccessToken({
      accountId: 'user-1', client, grantId, scope: 'openid email', gty: 'authorization_code',
    });
    ctx.body = { access_token: await token.save() };
    return;
  }
  await next();
});

provider.listen(port, '127.0.0.1', () => console.log(`OP listening at ${issuer} (keys generation ${generation})`));
