// openid-client (a certified OpenID relying party, none of our code) against the mock
// OpenID provider: discovery, authorization code with PKCE and a nonce, the id_token's
// validation, userinfo, and a refresh. Prints what it saw as JSON; exits non-zero on error.
import * as client from 'openid-client';

const { ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, TEST_USERNAME, TEST_PASSWORD } = process.env;

async function logIn(url) {
  // the person at the provider's login page: post the form, read where it sends the browser
  const page = await fetch(url, { redirect: 'manual' });
  if (page.status !== 200) throw new Error(`login page answered ${page.status}`);
  const answer = await fetch(url, {
    method: 'POST', redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: TEST_USERNAME, password: TEST_PASSWORD }),
  });
  if (answer.status !== 302) throw new Error(`login answered ${answer.status}: ${await answer.text()}`);
  return new URL(answer.headers.get('location'));
}

const config = await client.discovery(new URL(ISSUER), CLIENT_ID, CLIENT_SECRET, undefined,
  { execute: [client.allowInsecureRequests] });
const verifier = client.randomPKCECodeVerifier();
const nonce = client.randomNonce();
const state = client.randomState();
const url = client.buildAuthorizationUrl(config, {
  // OpenID Connect Core 11: offline_access (a refresh token) only with prompt=consent
  redirect_uri: REDIRECT_URI, scope: 'openid email profile offline_access', prompt: 'consent', nonce, state,
  code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
});
const tokens = await client.authorizationCodeGrant(config, await logIn(url),
  { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
let reuse;
try {
  await client.refreshTokenGrant(config, tokens.refresh_token);
  reuse = 'accepted';
} catch (error) {
  reuse = error.error || error.code || String(error);
}
console.log(JSON.stringify({
  issuer: config.serverMetadata().issuer,
  sub: claims.sub, nonce: claims.nonce === nonce, email: userinfo.email,
  rotated: refreshed.refresh_token !== tokens.refresh_token,
  refreshedSub: refreshed.claims()?.sub, reuse,
}));
