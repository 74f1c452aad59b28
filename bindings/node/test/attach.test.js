'use strict';
// engine.attach(server) and engine.handleUpgrade(): the host's own HTTP
// server and the engine on one port. The engine's own listener (loopback,
// a free port) is never used by these clients: every WebSocket comes in
// through the host's server.
const { test } = require('node:test');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const express = require('express');
const { assert, rtcore, startEngine, Client, withTimeout, until, WebSocket } = require('./helpers');

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

// Ends every connection too (fetch keeps its connections alive), so a
// failed test cannot hang in server.close().
function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function open(url, opts) {
  const c = new Client(url, opts);
  await withTimeout(c.opened, 5000, `connect ${url}`);
  return c;
}

// The HTTP status a refused upgrade got, 'closed' if the socket was
// dropped without one, or 'close NNNN' when it opened and the engine then
// closed it (an onConnect hook of the Node host decides after the upgrade:
// its refusal arrives as close code 4000 + status).
function refusal(url, opts) {
  return withTimeout(new Promise((resolve) => {
    const ws = new WebSocket(url, opts);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode);
      ws.terminate();
    });
    ws.on('close', (code) => resolve(`close ${code}`));
    ws.on('error', () => resolve('closed'));
  }), 5000, `refusal of ${url}`);
}

test('Express and rtcore share one port: routes, rooms, presence, the onConnect hook, origins, counters',
  async (t) => {
    const hooked = [];
    const engine = await startEngine({ allowedOrigins: ['http://app.example'] }, (e) => {
      e.onConnect((req) => {
        hooked.push([req.path, req.headers.origin]);
        if (req.userId === 'mallory') throw new rtcore.Reject(401);
        return true;
      });
    });
    t.after(() => engine.close());
    const presence = [];
    engine.on('presence', (ev) => presence.push(`${ev.userId}:${ev.status}`));
    const app = express();
    app.get('/api/hello', (_req, res) => res.json({ hello: 'world' }));
    const server = http.createServer(app);
    const attachment = engine.attach(server, { path: '/ws' });
    assert.equal(attachment.path, '/ws');
    const port = await listen(server);
    t.after(() => closeServer(server));
    assert.notEqual(port, engine.port);

    // The Express route on the shared port.
    const res = await fetch(`http://127.0.0.1:${port}/api/hello`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { hello: 'world' });

    const base = `ws://127.0.0.1:${port}/ws`;
    const origin = { origin: 'http://app.example' };
    const alice = await open(`${base}/alice`, origin);
    const bob = await open(`${base}/bob`, origin);
    alice.send({ type: 'join_room', room: 'lobby', presence: true, id: 1 });
    await alice.next((m) => m.type === 'ack' && m.id === 1);
    bob.send({ type: 'join_room', room: 'lobby', id: 2 });
    await bob.next((m) => m.type === 'ack' && m.id === 2);
    const joined = await alice.next((m) => m.type === 'user_joined');
    assert.equal(joined.user, 'bob');

    // Client-to-client messages in the room, both ways.
    bob.send({ type: 'room_message', room: 'lobby', content: { text: 'hi alice' }, id: 3 });
    const m1 = await alice.next((m) => m.type === 'message');
    assert.equal(m1.from, 'bob');
    assert.deepEqual(m1.content, { text: 'hi alice' });
    alice.send({ type: 'room_message', room: 'lobby', content: 'hi bob' });
    const m2 = await bob.next((m) => m.type === 'message' && m.from === 'alice');
    assert.deepEqual([m2.from, m2.content], ['alice', 'hi bob']);
    alice.send({ type: 'direct_message', to: 'bob', content: 'psst' });
    const dm = await bob.next((m) => m.type === 'direct_message');
    assert.deepEqual([dm.from, dm.content], ['alice', 'psst']);

    // Presence: the room's members, and the engine's presence events.
    alice.send({ type: 'presence', room: 'lobby', id: 4 });
    const members = await alice.next((m) => m.type === 'presence' && m.id === 4);
    assert.deepEqual([...members.users].sort(), ['alice', 'bob']);
    await until(() => presence.includes('alice:online') && presence.includes('bob:online'));

    // The hook and the origin rule apply to attached upgrades.
    assert.equal(await refusal(`${base}/mallory`, origin), 'close 4401');
    assert.equal(await refusal(`${base}/eve`, { origin: 'http://evil.example' }), 403);
    assert.deepEqual(hooked.map((h) => h[0]).sort(), ['/ws/alice', '/ws/bob', '/ws/mallory']);
    assert.ok(hooked.every((h) => h[1] === 'http://app.example'));

    // The engine counts them as its own.
    const s = engine.stats();
    assert.equal(s.connections, 2);
    assert.equal(s.connectionsTotal, 2);
    assert.equal(s.rooms, 1);
    assert.equal(s.rejectedUpgrades, 2);
    assert.equal(s.originRefusals, 1);

    // HTTP keeps working on the same port while sockets are attached.
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/hello`)).status, 200);
    await bob.close();
    await until(() => engine.stats().connections === 1);
    await until(() => presence.includes('bob:offline'));
    await alice.close();
    await until(() => engine.stats().connections === 0);
  });

test('a plain http.Server: a mount path other than /ws, other upgrades left to other listeners', async (t) => {
  const paths = [];
  const engine = await startEngine({}, (e) => e.onConnect((req) => { paths.push(req.path); }));
  t.after(() => engine.close());
  const server = http.createServer((_req, res) => res.end('plain http\n'));
  const attachment = engine.attach(server, { path: '/realtime/' });
  assert.equal(attachment.path, '/realtime');
  const port = await listen(server);
  t.after(() => closeServer(server));

  // /realtime stands for the engine's /ws.
  const carol = await open(`ws://127.0.0.1:${port}/realtime/carol`);
  carol.send({ type: 'join_room', room: 'r', id: 1 });
  await carol.next((m) => m.type === 'ack' && m.id === 1);
  assert.deepEqual(paths, ['/ws/carol']);

  // Not under the mount path, and no other 'upgrade' listener: dropped (Node
  // hands an upgrade to 'upgrade' listeners only, so it cannot go back to
  // the request handler). /realtimeX is not under /realtime.
  assert.equal(await refusal(`ws://127.0.0.1:${port}/other/dave`), 'closed');
  assert.equal(await refusal(`ws://127.0.0.1:${port}/realtimeX/dave`), 'closed');

  // Another 'upgrade' listener (a ws server of the host's) gets the rest.
  const other = new WebSocket.Server({ noServer: true });
  t.after(() => other.close());
  server.on('upgrade', (req, socket, head) => {
    if (!req.url.startsWith('/other')) return;
    other.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify({ type: 'from_other' })));
  });
  const o = new Client(`ws://127.0.0.1:${port}/other/dave`);
  await withTimeout(o.opened, 5000, 'the other listener');
  assert.equal((await o.next()).type, 'from_other');
  await o.close();
  // ...and ours still takes its own.
  const erin = await open(`ws://127.0.0.1:${port}/realtime/erin`);
  assert.equal(engine.stats().connections >= 1, true);
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'plain http\n');

  // close() detaches: later upgrades are no longer taken (with the other
  // listener gone too, Node 20 serves an upgrade request that no 'upgrade'
  // listener wants as a plain request: the server's handler answers 200).
  attachment.close();
  server.removeAllListeners('upgrade');
  assert.equal(await refusal(`ws://127.0.0.1:${port}/realtime/frank`), 200);
  await carol.close();
  await erin.close();
  await until(() => engine.stats().connections === 0);
  assert.deepEqual(paths, ['/ws/carol', '/ws/erin']);
});

test('handleUpgrade from the host\'s own listener; 503 while the engine is not listening', async (t) => {
  const engine = new rtcore.Engine({ port: 0 });
  const errors = [];
  const server = http.createServer();
  server.on('upgrade', (req, socket, head) => {
    try {
      engine.handleUpgrade(req, socket, head);
    } catch (err) {
      errors.push(err.code);
    }
  });
  const port = await listen(server);
  t.after(() => closeServer(server));
  // Not listening yet: the client gets 503, the caller an RTC_ESTATE error.
  assert.equal(await refusal(`ws://127.0.0.1:${port}/ws/gina`), 503);
  assert.deepEqual(errors, ['RTC_ESTATE']);
  await engine.listen();
  const gina = await open(`ws://127.0.0.1:${port}/ws/gina?x=1`);
  gina.send({ type: 'online', users: ['gina', 'hank'], id: 7 });
  const online = await gina.next((m) => m.type === 'online' && m.id === 7);
  assert.deepEqual(online.users, { gina: true, hank: false });
  assert.equal(engine.stats().connections, 1);
  // The engine closes attached connections as its own on close().
  await engine.close();
  const closed = await withTimeout(gina.closed, 5000, 'close on engine.close()');
  assert.equal(closed.code, 1001);
  assert.equal(await refusal(`ws://127.0.0.1:${port}/ws/gina`), 503);
  assert.deepEqual(errors, ['RTC_ESTATE', 'RTC_ESTATE']);
});

test('bytes sent with the request reach the engine; many attached connections at once', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const server = http.createServer();
  engine.attach(server);
  const port = await listen(server);
  t.after(() => closeServer(server));
  // A raw client writes the upgrade request and its first frame in one
  // write: Node's parser reads both, and the frame reaches the engine in
  // `head`, not from the socket.
  const payload = Buffer.from(JSON.stringify({ type: 'join_room', room: 'raw', id: 9 }));
  const mask = Buffer.from([1, 2, 3, 4]);
  const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask,
    Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))]);
  const request = Buffer.from('GET /ws/ivan HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  const sock = net.connect(port, '127.0.0.1');
  t.after(() => sock.destroy());
  let got = Buffer.alloc(0);
  sock.on('data', (d) => { got = Buffer.concat([got, d]); });
  sock.write(Buffer.concat([request, frame]));
  await until(() => got.includes('"type":"ack","id":9'), 5000, 'the ack of the frame sent with the request');
  assert.match(got.toString('latin1'), /^HTTP\/1\.1 101 /);

  // 50 clients at once, each joining and posting: nothing is lost between
  // Node and the engine.
  const clients = await Promise.all(Array.from({ length: 50 }, (_, i) => open(`ws://127.0.0.1:${port}/ws/u${i}`)));
  for (const [i, c] of clients.entries()) c.send({ type: 'join_room', room: 'many', id: i + 1 });
  await Promise.all(clients.map((c, i) => c.next((m) => m.type === 'ack' && m.id === i + 1)));
  clients[0].send({ type: 'room_message', room: 'many', content: 'to all' });
  await Promise.all(clients.map((c) => c.next((m) => m.type === 'message' && m.content === 'to all')));
  assert.equal(engine.stats().connections, 51);
  await Promise.all(clients.map((c) => c.close()));
  sock.destroy();
  await until(() => engine.stats().connections === 0);
});

let hasOpenssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  hasOpenssl = false;
}

test('TLS cannot be handed over: an https.Server\'s sockets, an engine with tlsCertFile', { skip: !hasOpenssl && 'no openssl CLI' },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcore-attach-tls-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore', timeout: 60000 });

    // A TLS socket has no plain descriptor to give: HTTP 500, RTC_ENOTSUP.
    const engine = await startEngine();
    t.after(() => engine.close());
    const errors = [];
    engine.on('error', (err) => errors.push(err.code));
    const secure = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
    engine.attach(secure);
    const securePort = await listen(secure);
    t.after(() => closeServer(secure));
    assert.equal(await refusal(`wss://127.0.0.1:${securePort}/ws/alice`, { ca: fs.readFileSync(cert) }), 500);
    assert.deepEqual(errors, ['RTC_ENOTSUP']);

    // An engine serving wss:// cannot take a plain socket either.
    const tlsEngine = await startEngine({ tlsCertFile: cert, tlsKeyFile: key });
    t.after(() => tlsEngine.close());
    const plain = http.createServer();
    plain.on('upgrade', (req, socket, head) => {
      try {
        tlsEngine.handleUpgrade(req, socket, head);
      } catch (err) {
        errors.push(err.code);
      }
    });
    const plainPort = await listen(plain);
    t.after(() => closeServer(plain));
    assert.equal(await refusal(`ws://127.0.0.1:${plainPort}/ws/alice`), 500);
    assert.deepEqual(errors, ['RTC_ENOTSUP', 'RTC_ENOTSUP']);
    assert.equal(engine.stats().connectionsTotal, 0);
  });

test('attach and handleUpgrade check their arguments', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  assert.throws(() => engine.attach({}), { code: 'RTC_EINVAL' });
  assert.throws(() => engine.attach(http.createServer(), { path: 'ws' }), { code: 'RTC_EINVAL' });
  assert.throws(() => engine.attach(http.createServer(), { path: '/ws?x' }), { code: 'RTC_EINVAL' });
  assert.throws(() => engine.handleUpgrade({}, {}, Buffer.alloc(0)), { code: 'RTC_EINVAL' });
});
