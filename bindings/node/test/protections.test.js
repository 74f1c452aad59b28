'use strict';
// The engine's protections configured from Node: JWT auth (tokens built
// here with node:crypto, no JWT library), origins, rate limit, connection
// limits, idle timeout, /stats, TLS; their counters; option validation; the
// secret kept out of inspect output, errors and logs.
const { test } = require('node:test');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { assert, rtcore, startEngine, Client, connect, runNode, withTimeout, until } = require('./helpers');

const SECRET = 'correct horse battery staple';
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function makeJwt(claims, secret = SECRET) {
  const h = b64({ alg: 'HS256', typ: 'JWT' });
  const p = b64(claims);
  return `${h}.${p}.${crypto.createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')}`;
}
const jwt = (sub, secret = SECRET, extra = {}) => makeJwt({ sub, exp: Math.floor(Date.now() / 1000) + 60, ...extra }, secret);
// 101 when the upgrade is accepted, else the HTTP status of the refusal.
const status = async (c) => {
  const s = await withTimeout(c.opened.then(() => 101, (err) => err.status), 5000, 'upgrade');
  if (s === 101) await c.close();
  return s;
};
const ack = async (c, id = 1) => {
  c.send({ type: 'join_room', room: 'r', id });
  return (await c.next((m) => m.id === id)).type === 'ack';
};
function httpGet(port, urlPath) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

test('defaults are the C library\'s', () => {
  const d = rtcore.defaults;
  assert.equal(d.rateLimitPerSecond, 1000);
  assert.equal(d.rateLimitBurst, 2000);
  assert.equal(d.maxConnections, 100000);
  assert.equal(d.maxConnectionsPerUser, 100);
  assert.equal(d.handshakeTimeout, 10000);
  assert.equal(d.idleTimeout, 0);
  assert.equal(d.jwtLeewaySeconds, 30);
  assert.equal(d.authMode, 'none');
  assert.equal(d.exposeStats, false);
  assert.equal(d.nodeTtl, 15000);
  assert.equal(d.redisBufferBytes, 8 << 20);
  assert.equal(d.joinTimeoutMs, 3000);
  assert.ok(Object.isFrozen(d));
});

test('jwt-hs256: a valid token is accepted; forged, expired and foreign tokens get 401', async (t) => {
  const engine = await startEngine({ authMode: 'jwt-hs256', jwtSecret: Buffer.from(SECRET), jwtLeewaySeconds: 0 });
  t.after(() => engine.close());
  const online = [];
  engine.on('presence', (ev) => online.push(ev.userId));
  const base = `ws://127.0.0.1:${engine.port}/ws`;
  const alice = new Client(`${base}/alice?token=${jwt('alice')}`);
  await withTimeout(alice.opened, 5000, 'alice');
  assert.ok(await ack(alice));
  const bob = new Client(`${base}/bob`, { headers: { authorization: `Bearer ${jwt('bob')}` } });
  await withTimeout(bob.opened, 5000, 'bob');
  assert.ok(await ack(bob));
  assert.equal(await status(new Client(`${base}/mallory?token=${jwt('mallory', 'guessed')}`)), 401);
  const expired = makeJwt({ sub: 'carol', exp: Math.floor(Date.now() / 1000) - 120 });
  assert.equal(await status(new Client(`${base}/carol?token=${expired}`)), 401);
  assert.equal(await status(new Client(`${base}/dave`)), 401);
  assert.equal(await status(new Client(`${base}/erin?token=${jwt('alice')}`)), 401); // sub is not the path's user
  const s = engine.stats();
  assert.equal(s.authFailures, 4);
  assert.ok(s.rejectedUpgrades >= 4);
  await Promise.all([alice.close(), bob.close()]);
  await until(() => online.length >= 2);
  assert.deepEqual([...new Set(online)].sort(), ['alice', 'bob']); // refused users never went online
});

test('jwt audience and issuer are checked', async (t) => {
  const engine = await startEngine({ auth: 'jwt-hs256', jwtSecret: SECRET, jwtAudience: 'chat', jwtIssuer: 'https://auth.example' });
  t.after(() => engine.close());
  const url = (tok) => `ws://127.0.0.1:${engine.port}/ws/alice?token=${tok}`;
  assert.equal(await status(new Client(url(jwt('alice', SECRET, { aud: 'chat', iss: 'https://auth.example' })))), 101);
  assert.equal(await status(new Client(url(jwt('alice', SECRET, { aud: 'billing', iss: 'https://auth.example' })))), 401);
  assert.equal(engine.stats().authFailures, 1);
});

test('origin allowlist refuses other sites with 403', async (t) => {
  const engine = await startEngine({ allowedOrigins: ['https://app.example', 'https://admin.example'] });
  t.after(() => engine.close());
  const url = `ws://127.0.0.1:${engine.port}/ws/alice`;
  assert.equal(await status(new Client(url, { origin: 'https://app.example' })), 101);
  assert.equal(await status(new Client(url)), 101); // no Origin: not a browser
  assert.equal(await status(new Client(url, { origin: 'https://evil.example' })), 403);
  assert.equal(engine.stats().originRefusals, 1);
});

test('rate limit answers rate_limited', async (t) => {
  const engine = await startEngine({ rateLimit: { perSecond: 1, burst: 3 } });
  t.after(() => engine.close());
  const c = await connect(engine, 'alice');
  for (let i = 0; i < 6; i++) c.send({ type: 'join_room', room: 'r', id: i });
  const answers = [];
  for (let i = 0; i < 6; i++) answers.push(await c.next((m) => m.id === i));
  assert.deepEqual(answers.slice(0, 3).map((m) => m.type), ['ack', 'ack', 'ack']);
  const limited = answers.filter((m) => m.type === 'error');
  assert.ok(limited.length >= 1);
  assert.ok(limited.every((m) => m.code === 'rate_limited'));
  const s = engine.stats();
  assert.equal(s.rateLimited, limited.length);
  assert.equal(s.rateLimitCloses, 0);
  await c.close();
});

test('connection limits answer 429 per user and 503 in total', async (t) => {
  const engine = await startEngine({ maxConnectionsPerUser: 1, maxConnections: 2 });
  t.after(() => engine.close());
  const url = (u) => `ws://127.0.0.1:${engine.port}/ws/${u}`;
  const alice = await connect(engine, 'alice');
  assert.equal(await status(new Client(url('alice'))), 429);
  const bob = await connect(engine, 'bob');
  assert.equal(await status(new Client(url('carol'))), 503);
  const s = engine.stats();
  assert.deepEqual([s.userLimitRefusals, s.connectionLimitRefusals], [1, 1]);
  await Promise.all([alice.close(), bob.close()]);
});

test('an idle connection is closed with 1000 and counted', async (t) => {
  const engine = await startEngine({ idleTimeout: 500 });
  t.after(() => engine.close());
  const c = await connect(engine, 'alice');
  assert.ok(await ack(c));
  const { code } = await withTimeout(c.closed, 5000, 'idle close');
  assert.equal(code, 1000);
  assert.equal(engine.stats().idleCloses, 1);
});

test('GET /stats only with exposeStats', async (t) => {
  const hidden = await startEngine();
  assert.equal((await httpGet(hidden.port, '/stats')).status, 404);
  await hidden.close();
  const engine = await startEngine({ exposeStats: true, allowedOrigins: 'https://app.example' });
  t.after(() => engine.close());
  assert.equal(await status(new Client(`ws://127.0.0.1:${engine.port}/ws/x`, { origin: 'https://evil.example' })), 403);
  const res = await httpGet(engine.port, '/stats');
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.body).origin_refusals, 1);
});

test('stats carry backplane and protection counters', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const s = engine.stats();
  assert.equal(s.backplaneConnected, 1); // the in-process backplane is always up
  for (const k of ['backplanePublished', 'backplaneDropped', 'backplaneInvalid', 'authFailures', 'originRefusals',
    'connectionLimitRefusals', 'userLimitRefusals', 'rateLimited', 'rateLimitCloses', 'idleCloses', 'forbidden']) {
    assert.equal(s[k], 0, k);
  }
});

test('protection options are validated, errors name the option', () => {
  const { Engine } = rtcore;
  const bad = [
    [{ authMode: 'jwt-hs256' }, /authMode "jwt-hs256" needs jwtSecret/],
    [{ authMode: 'basic' }, /authMode must be one of none, jwt-hs256/],
    [{ auth: 'none', authMode: 'none' }, /auth and authMode exclude each other/],
    [{ authMode: 'jwt-hs256', jwtSecret: '' }, /jwtSecret must not be empty/],
    [{ jwtSecret: 42 }, /jwtSecret must be a string or a Buffer/],
    [{ jwtLeewaySeconds: -1 }, /jwtLeewaySeconds/],
    [{ jwtAudience: 5 }, /jwtAudience must be a string/],
    [{ allowedOrigins: ['a,b'] }, /allowedOrigins/],
    [{ allowedOrigins: [''] }, /allowedOrigins/],
    [{ rateLimit: { perSecond: -1 } }, /rateLimit.perSecond/],
    [{ rateLimit: { perSecond: 5, burst: 0 } }, /rateLimit.burst/],
    [{ rateLimit: { perSec: 5 } }, /rateLimit has an unknown field "perSec"/],
    [{ rateLimit: 5 }, /rateLimit must be/],
    [{ rateLimit: { perSecond: 5 }, rateLimitPerSecond: 5 }, /rateLimit and rateLimitPerSecond exclude each other/],
    [{ rateLimitPerSecond: -1 }, /rateLimitPerSecond/],
    [{ maxConnections: 1.5 }, /maxConnections must be an integer/],
    [{ maxConnectionsPerUser: -1 }, /maxConnectionsPerUser/],
    [{ handshakeTimeout: 0 }, /handshakeTimeout/],
    [{ idleTimeout: -5 }, /idleTimeout/],
    [{ exposeStats: 'yes' }, /exposeStats must be a boolean/],
    [{ tlsCertFile: '/tmp/cert.pem' }, /tlsCertFile and tlsKeyFile go together/],
    [{ tlsCertFile: 1, tlsKeyFile: 'k' }, /tlsCertFile must be a string/],
    [{ redisPrefix: 7 }, /redisPrefix/],
    [{ nodeTtl: 0 }, /nodeTtl/],
    [{ redisBufferBytes: 0 }, /redisBufferBytes/],
    [{ redisUrl: 'http://user:hunter2@h' }, /redisUrl must be a redis/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => new Engine(options), (err) => {
      assert.equal(err.code, 'RTC_EINVAL', JSON.stringify(options));
      assert.match(err.message, message);
      return true;
    });
  }
  // The password of a bad redis URL is not echoed.
  assert.throws(() => new Engine({ redisUrl: 'http://user:hunter2@h' }), (err) => !err.message.includes('hunter2'));
  // Accepted forms.
  new Engine({ rateLimit: false });
  new Engine({ rateLimit: 0 });
  new Engine({ rateLimit: { perSecond: 10 } });
  new Engine({ rateLimitPerSecond: 10, rateLimitBurst: 20 });
  new Engine({ allowedOrigins: [] });
  new Engine({ authMode: 'jwt-hs256', jwtSecret: new Uint8Array([1, 2, 3]) });
});

test('the JWT secret is not in inspect output, errors or engine logs', async () => {
  const engine = new rtcore.Engine({ authMode: 'jwt-hs256', jwtSecret: SECRET });
  for (const text of [util.inspect(engine, { showHidden: true, depth: Infinity, getters: true }), String(engine),
    JSON.stringify(engine)]) {
    assert.ok(!text.includes('horse'), text);
  }
  assert.throws(() => new rtcore.Engine({ authMode: 'jwt-hs256', jwtSecret: SECRET, jwtLeewaySeconds: -1 }),
    (err) => !err.message.includes('horse') && !util.inspect(err).includes('horse'));
  // At log level 3 (debug) the engine logs every connection to stderr.
  const script = `
    const rtcore = require('rtcore');
    const WebSocket = require('ws');
    (async () => {
      const e = new rtcore.Engine({ port: 0, logLevel: 3, authMode: 'jwt-hs256', jwtSecret: ${JSON.stringify(SECRET)} });
      await e.listen();
      console.log(require('node:util').inspect(e, { showHidden: true, depth: null }));
      const ws = new WebSocket('ws://127.0.0.1:' + e.port + '/ws/x?token=bad');
      ws.on('error', () => {});
      ws.on('unexpected-response', async (req, res) => { console.log('status', res.statusCode); await e.close(); });
    })();`;
  const r = await runNode(['-e', script], { timeout: 15000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /status 401/);
  assert.ok(!(r.stdout + r.stderr).includes('horse'));
});

// ---- TLS --------------------------------------------------------------------
// Inside Node, the engine's OpenSSL calls (through libwebsockets) bind to the
// OpenSSL that the node binary exports, with a few symbols it does not export
// taken from the system's libcrypto (README.md, "TLS in Node"). These tests
// show what works with the Node and OpenSSL of the machine they run on.

function makeCertificate() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcore-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore', timeout: 60000 });
  return { dir, cert, key, ca: fs.readFileSync(cert) };
}

let hasOpenssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  hasOpenssl = false;
}

test('wss:// with tlsCertFile/tlsKeyFile works inside Node', { skip: !hasOpenssl && 'no openssl CLI' }, async (t) => {
  const tls = makeCertificate();
  t.after(() => fs.rmSync(tls.dir, { recursive: true, force: true }));
  const engine = await startEngine({ tlsCertFile: tls.cert, tlsKeyFile: tls.key, authMode: 'jwt-hs256', jwtSecret: SECRET });
  t.after(() => engine.close());
  assert.match(engine.url, /^wss:\/\/127\.0\.0\.1:\d+$/);
  const opts = { ca: tls.ca };
  const alice = new Client(`${engine.url}/ws/alice?token=${jwt('alice')}`, opts);
  const bob = new Client(`${engine.url}/ws/bob?token=${jwt('bob')}`, opts);
  await withTimeout(Promise.all([alice.opened, bob.opened]), 5000, 'wss open');
  assert.ok(['TLSv1.2', 'TLSv1.3'].includes(alice.ws._socket.getProtocol()));
  assert.ok(await ack(alice) && await ack(bob, 2));
  // Enough traffic to cross many TLS records both ways.
  const big = 'x'.repeat(200000);
  for (let i = 0; i < 20; i++) alice.send({ type: 'room_message', room: 'r', content: { i, big } });
  for (const c of [alice, bob]) {
    for (let i = 0; i < 20; i++) assert.equal((await c.next((m) => m.type === 'message' && m.content.i === i)).content.big.length, big.length);
  }
  // Refusals are still HTTP statuses, over TLS.
  assert.equal(await status(new Client(`${engine.url}/ws/carol?token=${jwt('carol', 'guessed')}`, opts)), 401);
  // TLS 1.2 only, and TLS 1.1 refused by the server (SECLEVEL=0 lets this
  // client offer 1.1 at all).
  const v12 = new Client(`${engine.url}/ws/dave?token=${jwt('dave')}`, { ...opts, maxVersion: 'TLSv1.2' });
  await withTimeout(v12.opened, 5000, 'TLS 1.2 open');
  assert.equal(v12.ws._socket.getProtocol(), 'TLSv1.2');
  await v12.close();
  // ECDHE on P-521, a curve whose fast path is among the symbols the node
  // binary does not export (taken from the system libcrypto).
  const p521 = new Client(`${engine.url}/ws/dave?token=${jwt('dave')}`, { ...opts, maxVersion: 'TLSv1.2', ecdhCurve: 'secp521r1' });
  await withTimeout(p521.opened, 5000, 'P-521 open');
  assert.equal(p521.ws._socket.getEphemeralKeyInfo().name, 'secp521r1');
  assert.ok(await ack(p521, 3));
  await p521.close();
  const v11 = new Client(`${engine.url}/ws/erin?token=${jwt('erin')}`,
    { ...opts, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
  await assert.rejects(withTimeout(v11.opened, 5000, 'TLS 1.1'), /protocol version|unsupported protocol|wrong version/i);
  // Plain ws:// to the TLS port gets no WebSocket.
  const plain = new Client(`ws://127.0.0.1:${engine.port}/ws/frank?token=${jwt('frank')}`);
  await assert.rejects(withTimeout(plain.opened, 5000, 'plain to tls'));
  await Promise.all([alice.close(), bob.close()]);
  assert.equal(engine.stats().authFailures, 1);
});

test('unreadable TLS files are named at listen(); a non-certificate fails with a hint', async (t) => {
  const engine = new rtcore.Engine({ port: 0, tlsCertFile: '/nonexistent/cert.pem', tlsKeyFile: '/nonexistent/key.pem' });
  await assert.rejects(engine.listen(), (err) => err.code === 'RTC_EINVAL' && /tlsCertFile: cannot read/.test(err.message));
  if (!hasOpenssl) return;
  const tls = makeCertificate();
  t.after(() => fs.rmSync(tls.dir, { recursive: true, force: true }));
  const bad = path.join(tls.dir, 'not-a-cert.pem');
  fs.writeFileSync(bad, 'garbage\n');
  const wrong = new rtcore.Engine({ port: 0, tlsCertFile: bad, tlsKeyFile: tls.key, logLevel: 0 });
  // The engine's own code for it (rtcore.h): RTC_ETLS, not RTC_ELISTEN.
  await assert.rejects(wrong.listen(), (err) => err.code === 'RTC_ETLS' && /is tlsCertFile a PEM certificate/.test(err.message));
});

test('a process with a wss:// engine exits cleanly after close()', { skip: !hasOpenssl && 'no openssl CLI' }, async (t) => {
  const tls = makeCertificate();
  t.after(() => fs.rmSync(tls.dir, { recursive: true, force: true }));
  const script = `
    const rtcore = require('rtcore');
    const WebSocket = require('ws');
    (async () => {
      const e = new rtcore.Engine({ port: 0, tlsCertFile: ${JSON.stringify(tls.cert)}, tlsKeyFile: ${JSON.stringify(tls.key)} });
      await e.listen();
      const ws = new WebSocket(e.url + '/ws/alice', { ca: require('fs').readFileSync(${JSON.stringify(tls.cert)}) });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'join_room', room: 'r', id: 1 })));
      ws.on('message', async (m) => { console.log(String(m)); await e.close(); });
    })();`;
  const r = await runNode(['-e', script], { timeout: 15000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /"type":"ack"/);
});
