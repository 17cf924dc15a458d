// Drives the published kinvey-js-sdk 7 against the reference MIC and its BaaS stand-in.
// The SDK is used unchanged; only its injected adapters are ours: an HTTP adapter that
// sends its hard-coded https://auth.kinvey.com and https://baas.kinvey.com calls to the
// local fleet, in-memory session and cache stores, and a headless popup that completes the
// upstream login page and reports the redirect, as a browser popup would.
// Prints one JSON object: what each phase observed.
'use strict';
const { EventEmitter } = require('events');
const { init, User, DataStore, DataStoreType } = require('kinvey-js-sdk');

const env = (name) => {
  if (!process.env[name]) throw new Error(`missing ${name}`);
  return process.env[name];
};
const MIC = env('MIC_URL');
const CONTROL = env('MIC_CONTROL_URL');
const APP_KEY = env('APP_KEY');
const REDIRECT_URI = env('REDIRECT_URI');
const USERNAME = env('TEST_USERNAME');
const PASSWORD = env('TEST_PASSWORD');

const calls = [];
const local = (url) => url.replace(/^https:\/\/(auth|baas)\.kinvey\.com/, MIC);

const httpAdapter = {
  async send(request) {
    const url = local(request.url);
    calls.push(`${request.method} ${new URL(url).pathname}`);
    const response = await fetch(url, { method: request.method, headers: request.headers, body: request.body,
                                         redirect: 'manual' });
    const headers = {};
    response.headers.forEach((value, name) => { headers[name] = value; });
    return { statusCode: response.status, headers, data: await response.text() };
  },
};

const sessions = new Map();
const sessionStore = {
  async get(key) { return sessions.has(key) ? sessions.get(key) : null; },
  async set(key, value) { sessions.set(key, value); return true; },
  async remove(key) { return sessions.delete(key); },
};

// The SDK keeps its offline cache here (it clears it on logout); memory will do.
const tables = new Map();
const table = (db, collection) => {
  const key = `${db}/${collection}`;
  if (!tables.has(key)) tables.set(key, new Map());
  return tables.get(key);
};
const storageAdapter = {
  async find(db, collection) { return [...table(db, collection).values()]; },
  async count(db, collection) { return table(db, collection).size; },
  async findById(db, collection, id) { return table(db, collection).get(id); },
  async save(db, collection, docs) { docs.forEach((doc) => table(db, collection).set(doc._id, doc)); return docs; },
  async removeById(db, collection, id) { return table(db, collection).delete(id) ? 1 : 0; },
  async clear(db, collection) { table(db, collection).clear(); return true; },
  async clearDatabase() { tables.clear(); return true; },
};

class HeadlessPopup extends EventEmitter {
  constructor() { super(); this.closed = false; }
  isClosed() { return this.closed; }
  onLoaded(listener) { return this.on('loaded', listener); }
  onClosed(listener) { return this.on('closed', listener); }
  onError(listener) { return this.on('error', listener); }
  async close() { this.closed = true; this.emit('closed'); }

  // Follow the flow like a browser: redirects, then the login form, until the app's redirect URI.
  async drive(url) {
    let response = await this.visit(local(url));
    for (let hops = 0; hops < 20 && !this.closed; hops += 1) {
      const location = response.headers.get('location');
      if (location) {
        response = await this.visit(new URL(location, response.url).toString());
      } else if (/name="password"/.test(response.body)) {
        const action = (response.body.match(/<form[^>]*action="([^"]+)"/) || [])[1];
        const target = action ? new URL(action, response.url).toString() : response.url;
        response = await this.visit(target, new URLSearchParams({ username: USERNAME, password: PASSWORD }));
      } else {
        throw new Error(`the popup is stuck at ${response.url} (${response.status})`);
      }
    }
  }

  async visit(url, form) {
    this.emit('loaded', { url });
    if (this.closed || url.startsWith(REDIRECT_URI)) return { headers: new Headers(), url, body: '' };
    const response = await fetch(url, form ? { method: 'POST', body: form, redirect: 'manual' }
                                            : { redirect: 'manual' });
    return { headers: response.headers, url, status: response.status, body: await response.text() };
  }
}

const popup = {
  async open(url) {
    const window = new HeadlessPopup();
    setImmediate(() => window.drive(url).catch((error) => window.emit('error', error)));
    return window;
  },
};

async function books() {
  return DataStore.collection('books', DataStoreType.Network).find().toPromise();
}

async function main() {
  init({ kinveyConfig: { appKey: APP_KEY, appSecret: env('APP_SECRET') }, httpAdapter, sessionStore, popup,
         storageAdapter, pubnub: null });
  const result = {};

  const ropc = await User.loginWithMICUsingResourceOwnerCredentials(USERNAME, PASSWORD,
                                                                    { micId: env('PASSWORD_SERVICE') });
  result.ropc = { id: ropc._id, socialIdentity: ropc.data._socialIdentity.kinveyAuth.id,
                  data: await books() };
  await User.logout();
  result.afterLogout = (await User.getActiveUser()) === null;

  calls.length = 0;
  const coded = await User.loginWithMIC(REDIRECT_URI, undefined, { micId: env('CODE_SERVICE') });
  result.code = { id: coded._id, socialIdentity: coded.data._socialIdentity.kinveyAuth.id, calls: [...calls] };

  await fetch(`${CONTROL}/_control/clock`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                             body: JSON.stringify({ advance: 3601 }) });
  calls.length = 0;
  result.afterExpiry = { data: await books(), calls: [...calls] };

  await User.logout();
  result.loggedOut = (await User.getActiveUser()) === null;
  process.stdout.write(JSON.stringify(result));
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({ error: `${error.name}: ${error.message}`, calls }));
  process.exitCode = 1;
});
