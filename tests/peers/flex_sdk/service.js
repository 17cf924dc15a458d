// A custom auth service written on Kinvey's kinvey-flex-sdk, as a vendor writes one: flex.auth.register.
// Run from a folder of its own (the SDK writes output.log into its working folder) with a JSON
// configuration file as its one argument: {port, sharedSecret, users: {name: {password, email, refuse?, locked?}}}.
// Handlers: "objectToken" answers the documented token object, "stringToken" a bare string,
// "dataStore" also calls modules.dataStore() and reports the backend's answer as the attribute "baas".
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const sdk = require('kinvey-flex-sdk');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const MAX_NAME = 256;

function sameSecret(given, expected) {
  const a = Buffer.from(String(given));
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

// the user these credentials log in, or the refusal to answer with
function check(body) {
  const { username, password } = body || {};
  if (typeof username !== 'string' || typeof password !== 'string' || username.length > MAX_NAME) {
    return { refusal: 'A username and a password are required.' };
  }
  const user = Object.prototype.hasOwnProperty.call(config.users, username) ? config.users[username] : null;
  if (user === null || !sameSecret(password, user.password)) {
    return { refusal: `The password is not right for ${username.slice(0, 40)}.` };
  }
  if (user.locked) return { refusal: new Error(user.locked) };  // the SDK sends an Error as {name, message, stack}
  if (user.refuse) return { refusal: user.refuse };
  return { user };
}

// a handler answering tokenOf(name); with a logger, it reads the backend first and logs its answer
function login(tokenOf, logger) {
  return (context, complete, modules) => {
    const { user, refusal } = check(context.body);
    if (refusal) return complete().accessDenied(refusal).next();
    const token = tokenOf(context.body.username);
    const answer = (baas) => {
      const reply = complete().setToken(token).addAttribute('email', user.email);
      if (baas) reply.addAttribute('baas', baas);
      return reply.ok().next();
    };
    if (!logger) return answer();
    return modules.dataStore().collection('books').find((err, found) => {
      const baas = err ? { error: err.message, description: err.description } : { entities: found.length };
      logger.info(JSON.stringify({ baas }));  // a line on stdout, for the test to read
      return answer(baas);
    });
  };
}

const objectToken = (name) => ({ access_token: `${name}-${crypto.randomBytes(8).toString('hex')}`,
  token_type: 'Bearer', expires_in: 60 });
const stringToken = (name) => `${name}-${crypto.randomBytes(8).toString('hex')}`;

sdk.service({ host: '127.0.0.1', port: config.port, sharedSecret: config.sharedSecret }, (err, flex) => {
  if (err) {
    console.error(`the service did not start: ${err}`);
    process.exit(1);
  }
  flex.auth.register('objectToken', login(objectToken));
  flex.auth.register('stringToken', login(stringToken));
  flex.auth.register('dataStore', login(objectToken, flex.logger));
});
