'use strict';
// The engine's protections configured from Node: JWT auth (HMAC through
// the OpenSSL symbols Node itself provides), origins, per-user limits.
const { test } = require('node:test');
const crypto = require('node:crypto');
const { assert, rtcore, startEngine, Client } = require('./helpers');

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function jwt(sub, secret) {
  const h = b64({ alg: 'HS256', typ: 'JWT' });
  const p = b64({ sub, exp: Math.floor(Date.now() / 1000) + 60 });
  return `${h}.${p}.${crypto.createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')}`;
}
const status = (c) => c.opened.then(() => 101, (err) => err.status);

test('jwt-hs256 auth, origin allowlist and per-user limit refuse with HTTP statuses', async (t) => {
  const engine = await startEngine({
    auth: 'jwt-hs256', jwtSecret: 's3cret', allowedOrigins: ['https://app.example'], maxConnectionsPerUser: 1,
  });
  t.after(() => engine.close());
  const url = (user, secret) => `ws://127.0.0.1:${engine.port}/ws/${user}?token=${jwt(user, secret)}`;
  const ok = new Client(url('alice', 's3cret'), { origin: 'https://app.example' });
  assert.equal(await status(ok), 101);
  assert.equal(await status(new Client(url('bob', 'wrong'))), 401);
  assert.equal(await status(new Client(url('bob', 's3cret'), { origin: 'https://evil.example' })), 403);
  assert.equal(await status(new Client(url('alice', 's3cret'))), 429);
  const s = engine.stats();
  assert.deepEqual([s.authFailures, s.originRefusals, s.userLimitRefusals], [1, 1, 1]);
  await ok.close();
});

test('protection options are validated', () => {
  const { Engine } = rtcore;
  assert.throws(() => new Engine({ auth: 'jwt-hs256' }), /needs jwtSecret/);
  assert.throws(() => new Engine({ auth: 'basic' }), { code: 'RTC_EINVAL' });
  assert.throws(() => new Engine({ allowedOrigins: ['a,b'] }), { code: 'RTC_EINVAL' });
  assert.throws(() => new Engine({ rateLimitPerSecond: -1 }), { code: 'RTC_EINVAL' });
});
