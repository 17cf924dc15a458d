// A SAML 2.0 identity provider on samlify (its IdentityProvider role), behind a thin express
// server: what the MIC is certified against when none of our code writes the SAML.
//
// node server.js CONFIG.json, where CONFIG holds {port, entityId, privateKey, certificate (PEM),
// sign: "assertion" | "response" | "both", sps: [{entityId, acs}], users: {name: {password, email,
// name}}}. It prints "saml-idp on http://127.0.0.1:PORT" once it listens.
//
// samlify parses the AuthnRequest (HTTP-Redirect: /saml/sso/redirect, HTTP-POST: /saml/sso/post),
// and builds and signs the Response (RSA-SHA256, exclusive c14n); this server only keeps
// the IdP's session, checks the password and refuses what SAML 2.0 Profiles 4.1.4.1 says
// an IdP must not answer: an unknown SP, or an AssertionConsumerServiceURL not registered
// for it. The Response goes back by HTTP-POST on a page posted by a script file, with a
// noscript button, as SimpleSAMLphp's is.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const express = require('express');
const samlify = require('samlify');
const validator = require('@authenio/samlify-node-xmllint');

samlify.setSchemaValidator(validator);

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const POST = samlify.Constants.namespace.binding.post;
const EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const signResponse = config.sign === 'response' || config.sign === 'both';
const signAssertion = config.sign !== 'response';

// the AuthnStatement SAML 2.0 Profiles 4.1.4.2 asks for, and the attributes, in samlify's template
const attributes = [
  { name: 'email', valueTag: 'email', nameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic', valueXsiType: 'xs:string' },
  { name: 'name', valueTag: 'name', nameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic', valueXsiType: 'xs:string' },
];
const authnStatement = '<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{SessionIndex}">'
  + '<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'
  + '</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>';
const idp = samlify.IdentityProvider({
  entityID: config.entityId,
  privateKey: config.privateKey,
  signingCert: config.certificate,
  nameIDFormat: [EMAIL, UNSPECIFIED],
  singleSignOnService: [
    { Binding: samlify.Constants.namespace.binding.redirect, Location: `${config.url}/saml/sso/redirect` },
    { Binding: POST, Location: `${config.url}/saml/sso/post` },
  ],
  loginResponseTemplate: {
    context: samlify.SamlLib.defaultLoginResponseTemplate.context.replace('{AuthnStatement}', authnStatement),
    attributes,
  },
});

// one samlify ServiceProvider per (entity id, assertion consumer): the Response goes to the one asked for
const sps = new Map(config.sps.map(({ entityId, acs }) => [`${entityId} ${acs}`, samlify.ServiceProvider({
  entityID: entityId,
  assertionConsumerService: [{ Binding: POST, Location: acs }],
  wantAssertionsSigned: signAssertion,
  wantMessageSigned: signResponse,
  authnRequestsSigned: false,
})]));
const anySp = sps.values().next().value;
const pending = new Map(); // AuthState -> {sp, request, relayState}
const sessions = new Map(); // session cookie -> user name

const page = (title, body, head = '') => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>${title}</title>${head}</head><body><header><form action="/saml/language" method="get">
<select name="language"><option value="en" selected>English</option><option value="de">Deutsch</option></select>
<button type="submit">Change language</button></form></header><main>${body}</main></body></html>`;
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(state, problem) {
  return page('Sign in', `<h1>Sign in</h1>${problem ? `<p class="error">${escape(problem)}</p>` : ''}
<form id="login-form" action="/saml/login" method="post"><input type="hidden" name="AuthState" value="${escape(state)}">
<label>Username <input name="user" autocomplete="username"></label>
<label>Password <input name="pass" type="password" autocomplete="current-password"></label>
<button type="submit" id="go">Sign in</button></form>`);
}

function cookie(req, name) {
  const found = (req.headers.cookie || '').split(';').map((c) => c.trim().split('=')).find(([k]) => k === name);
  return found ? found[1] : undefined;
}

async function answer(res, login, userName) {
  const user = config.users[userName];
  const { sp, request, relayState } = login;
  const asked = request.extract.nameIDPolicy && request.extract.nameIDPolicy.format;
  const format = asked && asked !== UNSPECIFIED ? asked : EMAIL;
  const acs = sp.entityMeta.getAssertionConsumerService('post');
  const now = new Date();
  const later = new Date(now.getTime() + 5 * 60 * 1000).toISOString();
  const id = idp.entitySetting.generateID();
  const response = await idp.createLoginResponse(sp, request, 'post', { email: user.email }, {
    relayState,
    customTagReplacement: (template) => ({
      id,
      context: samlify.SamlLib.replaceTagsByValue(template, {
        ID: id, AssertionID: idp.entitySetting.generateID(), Destination: acs, Audience: sp.entityMeta.getEntityID(),
        SubjectRecipient: acs, Issuer: idp.entityMeta.getEntityID(), IssueInstant: now.toISOString(),
        StatusCode: samlify.Constants.StatusCode.Success, ConditionsNotBefore: now.toISOString(),
        ConditionsNotOnOrAfter: later, SubjectConfirmationDataNotOnOrAfter: later, NameIDFormat: format,
        NameID: user.email, InResponseTo: request.extract.request.id, SessionIndex: `_${crypto.randomUUID()}`,
        attrEmail: user.email, attrName: user.name,
      }),
    }),
  });
  const fields = [['SAMLResponse', response.context], ...(relayState ? [['RelayState', relayState]] : [])]
    .map(([k, v]) => `<input type="hidden" name="${k}" value="${escape(v)}">`).join('');
  res.type('html').send(page('Sending you back', `<noscript><p>Your browser does not run scripts: press Continue.</p>
</noscript><form method="post" action="${escape(acs)}">${fields}<noscript><button type="submit">Continue</button>
</noscript></form>`, '<script src="/saml/assets/post.js"></script>'));
}

async function sso(req, res, binding, message) {
  let request;
  try {
    request = await idp.parseLoginRequest(anySp, binding, message);
  } catch (error) {
    return res.status(400).type('html').send(page('Bad request', `<p>Not a SAML AuthnRequest: ${escape(error.message || error)}</p>`));
  }
  const wanted = request.extract.request.assertionConsumerServiceUrl;
  const sp = sps.get(`${request.extract.issuer} ${wanted}`);
  if (!sp) { // SAML 2.0 Profiles 4.1.4.1: the ACS must be one the SP registered
    return res.status(400).type('html').send(page('Unknown service provider', `<p>No service provider
${escape(request.extract.issuer)} with the assertion consumer ${escape(wanted)} is registered here.</p>`));
  }
  const asked = request.extract.nameIDPolicy && request.extract.nameIDPolicy.format;
  if (asked && ![EMAIL, UNSPECIFIED].includes(asked)) {
    return res.status(400).type('html').send(page('Unsupported NameID format', `<p>This IdP issues no ${escape(asked)}.</p>`));
  }
  const relayState = (binding === 'redirect' ? req.query : req.body).RelayState;
  const login = { sp, request, relayState };
  const user = sessions.get(cookie(req, 'idp_session'));
  if (user) return answer(res, login, user);
  const state = crypto.randomUUID();
  pending.set(state, login);
  return res.type('html').send(loginPage(state));
}

const app = express();
app.use(express.urlencoded({ extended: false }));
app.get('/saml/metadata', (req, res) => res.type('application/samlmetadata+xml').send(idp.getMetadata()));
app.get('/saml/sso/redirect', (req, res) => {
  const octetString = req.originalUrl.split('?')[1] || '';
  return sso(req, res, 'redirect', { query: req.query, octetString });
});
app.post('/saml/sso/post', (req, res) => sso(req, res, 'post', { body: req.body }));
app.post('/saml/login', (req, res) => {
  const login = pending.get(req.body.AuthState);
  if (!login) return res.status(400).type('html').send(page('Session expired', '<p>Start again from the application.</p>'));
  const user = config.users[req.body.user];
  const given = Buffer.from(String(req.body.pass || ''));
  const known = Buffer.from(user ? user.password : '');
  if (!user || given.length !== known.length || !crypto.timingSafeEqual(given, known)) {
    return res.type('html').send(loginPage(req.body.AuthState, 'Incorrect username or password.'));
  }
  pending.delete(req.body.AuthState);
  const session = crypto.randomBytes(24).toString('hex');
  sessions.set(session, req.body.user);
  res.cookie('idp_session', session, { httpOnly: true, sameSite: 'lax', path: '/saml' });
  return answer(res, login, req.body.user);
});
app.get('/saml/assets/post.js', (req, res) => res.type('text/javascript').send(
  "document.addEventListener('DOMContentLoaded', function () { document.getElementsByTagName('form')[1].submit(); });"));
app.get('/saml/language', (req, res) => res.redirect(req.get('referer') || '/saml/metadata'));

// the schema validator compiles its xmllint on first use (~5 s here): before the first login, not in it
let server;
const warmUp = '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_warm-up" Version="2.0" '
  + 'IssueInstant="2000-01-01T00:00:00Z"/>';
validator.validate(warmUp).then(() => {
  server = app.listen(config.port, '127.0.0.1', () => {
    console.log(`saml-idp on http://127.0.0.1:${server.address().port}`);
  });
});
process.on('SIGTERM', () => (server ? server.close(() => process.exit(0)) : process.exit(0)));
