// npm oidc-provider (a certified OpenID provider) as a vendor would run it, on plain HTTP loopback:
// `node server.js --mic-port N --app-redirect URL [--port P]` serves the issuer http://127.0.0.1:<port>
// (port 0: any free one) and prints {"issuer": ...} once it listens. Its clients: the MIC's (mic-oidc,
// redirect URI http://127.0.0.1:<mic-port>/oidc/redirect) and relying parties for the openid-provider
// profile (conformance and the public conformance-public, redirect URI <app-redirect>). The login page is ours, as oidc-provider leaves it
// to its deployer; consent is granted without a page (first-party clients), offline_access included.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import { Provider } from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'mic-port': { type: 'string' },
    'app-redirect': { type: 'string' },
  },
});
if (!args['mic-port'] || !args['app-redirect']) {
  process.stderr.write('usage: node server.js --mic-port N --app-redirect URL [--port P]\n');
  process.exit(2);
}

// the test users of harness/targets/embedded.yaml, with standard claims (OpenID Connect Core 5.1)
const USERS = {
  alice: {
    sub: 'u-alice',
    password: 'wonderland',
    claims: {
      name: 'Alice Liddell', given_name: 'Alice', family_name: 'Liddell', preferred_username: 'alice',
      email: 'alice@example.com', email_verified: true,
      address: { street_address: '1 Rabbit Hole', locality: 'Oxford', country: 'GB' },
      phone_number: '+44 1865 000000', phone_number_verified: false,
    },
  },
  bob: {
    sub: 'u-bob',
    password: 'builder',
    claims: { name: 'Bob Builder', preferred_username: 'bob', email: 'bob@example.com', email_verified: false },
  },
};
const BY_SUB = Object.fromEntries(Object.values(USERS).map((user) => [user.sub, user]));

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, clientId, error) {
  // two forms, as real pages have: the recipe names the one that logs in (#login-form)
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in to continue to ${escape(clientId)}</h1>
${error ? `<p role="alert" class="error">${escape(error)}</p>` : ''}
<form id="locale-form" method="get" action="/interaction/${uid}">
  <label>Language <select name="ui_locales"><option>en</option><option>fr</option></select></label>
  <button type="submit" id="change-locale">Change</button>
</form>
<form id="login-form" method="post" action="/interaction/${uid}/login" autocomplete="off">
  <label>Username <input name="login" autofocus></label>
  <label>Password <input type="password" name="pw"></label>
  <button type="submit" id="sign-in">Sign in</button>
</form>
</body></html>`;
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function grantConsent(provider, interaction) {
  // what a first-party deployment does: every scope and claim asked for is granted
  const { prompt: { details }, params, session: { accountId } } = interaction;
  const grant = interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

async function interaction(provider, req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, '<p>This sign-in is not the one in progress.</p>');
  if (details.prompt.name === 'consent') {
    const grantId = await grantConsent(provider, details);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (action !== 'login') return send(res, 200, loginPage(uid, details.params.client_id));
  const form = await formBody(req);
  const user = USERS[form.get('login') || ''];
  if (!user || user.password !== form.get('pw')) {
    return send(res, 200, loginPage(uid, details.params.client_id, 'That username or password is not right.'));
  }
  return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
}

const server = createServer();
server.listen(Number(args.port), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'mic-oidc',
        client_secret: 'mic-oidc-secret',
        redirect_uris: [`http://127.0.0.1:${args['mic-port']}/oidc/redirect`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
      {
        client_id: 'conformance',
        client_secret: 'conformance-secret',
        redirect_uris: [args['app-redirect']],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
      {
        client_id: 'conformance-public',
        token_endpoint_auth_method: 'none',
        redirect_uris: [args['app-redirect']],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    async findAccount(ctx, sub) {
      const user = BY_SUB[sub];
      return user && { accountId: sub, claims: async () => ({ sub, ...user.claims }) };
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
      address: ['address'],
      phone: ['phone_number', 'phone_number_verified'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'address', 'phone'],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig' }] },
    cookies: {
      keys: [randomBytes(32).toString('hex')],
      // SameSite=None needs Secure, which plain HTTP cannot carry: browsers would drop the session cookie
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    interactions: { url: (ctx, details) => `/interaction/${details.uid}` },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 30 * 24 * 3600,
           Interaction: 600, Session: 8 * 3600, Grant: 30 * 24 * 3600 },
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    const match = req.url.match(/^\/interaction\/([\w-]+)(\/login)?(?:\?.*)?$/);
    if (!match) return callback(req, res);
    const action = match[2] && req.method === 'POST' ? 'login' : 'show';
    return interaction(provider, req, res, match[1], action).catch((err) => {
      send(res, err.statusCode || 500, `<p>${escape(err.error_description || err.message)}</p>`);
    });
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
