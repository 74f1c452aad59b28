'use strict';
// Every server-side call of the Engine, against real WebSocket clients.
const { test } = require('node:test');
const { assert, rtcore, startEngine, connect, until } = require('./helpers');

const { Engine, Connection, RtcoreError, Reject } = rtcore;

test('exports the API and the engine version', () => {
  assert.equal(typeof Engine, 'function');
  assert.equal(typeof Connection, 'function');
  assert.equal(typeof Reject, 'function');
  assert.match(rtcore.version, /^\d+\.\d+\.\d+$/);
});

test('ESM import gives the same objects', async () => {
  const esm = await import(require('node:url').pathToFileURL(require.resolve(`${require('./helpers').pkgDir}/index.mjs`)));
  assert.equal(esm.Engine, Engine);
  assert.equal(esm.default.Reject, Reject);
});

test('listen binds port 0 to a free port and reports address, nodeId, stats', async (t) => {
  const engine = await startEngine({ nodeId: 'node-a' });
  t.after(() => engine.close());
  assert.ok(engine.port > 0);
  assert.deepEqual(engine.address(), { host: '127.0.0.1', port: engine.port });
  assert.equal(engine.nodeId, 'node-a');
  assert.equal(engine.listening, true);
  const s = engine.stats();
  for (const k of ['connections', 'users', 'rooms', 'messagesIn', 'messagesOut', 'bytesOut', 'drops', 'errorsSent',
    'connectionsTotal', 'rejectedUpgrades', 'slowConsumerCloses', 'oversizeCloses']) {
    assert.equal(typeof s[k], 'number', k);
  }
  assert.equal(s.connections, 0);
  assert.equal(typeof s.internalErrors, 'number');
  assert.equal(typeof s.queuedBytes, 'number');
  const text = engine.metrics();
  assert.match(text, /# TYPE rtcore_connections gauge\nrtcore_connections 0\n/);
  assert.match(text, /rtcore_info\{node="node-a",backplane="in-process"\} 1/);
  assert.match(rtcore.METRICS_CONTENT_TYPE, /^text\/plain; version=0\.0\.4/);
});

test('options are validated in JS with RTC_EINVAL', () => {
  const bad = [{ port: -1 }, { port: 70000 }, { port: 1.5 }, { host: 5 }, { pingInterval: 0 }, { logLevel: 9 },
    { allowPostWithoutJoin: 'yes' }, { nope: 1 }, { redisUrl: 'http://x' }, 'str'];
  for (const options of bad) {
    assert.throws(() => new Engine(options), (err) => err instanceof RtcoreError && err.code === 'RTC_EINVAL',
      JSON.stringify(options));
  }
});

test('a port already in use rejects listen with RTC_ELISTEN', async (t) => {
  const a = await startEngine();
  t.after(() => a.close());
  const b = new Engine({ port: a.port });
  await assert.rejects(b.listen(), { code: 'RTC_ELISTEN' });
  await assert.rejects(b.listen(), { code: 'RTC_ESTATE' });
});

test('an unreachable redisUrl still listens, with the backplane reported down', async (t) => {
  const e = new Engine({ port: 0, redisUrl: 'redis://127.0.0.1:1', redisConnectTimeout: 200, logLevel: 0 });
  t.after(() => e.close());
  await e.listen();
  assert.equal(e.stats().backplaneConnected, 0);
});

test('calls before listen and after close throw RTC_ESTATE', async () => {
  const e = new Engine({ port: 0 });
  assert.throws(() => e.sendToUser('alice', { type: 'x' }), { code: 'RTC_ESTATE' });
  assert.throws(() => e.stats(), { code: 'RTC_ESTATE' });
  await e.listen();
  await e.close();
  await e.close(); // idempotent
  assert.throws(() => e.broadcast('r', { type: 'x' }), { code: 'RTC_ESTATE' });
  assert.throws(() => e.onConnect(() => true), { code: 'RTC_ESTATE' });
  assert.equal(e.listening, false);
});

test('sendToUser sends a frame object as is, sendMessageToUser content in a direct_message envelope', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const a1 = await connect(engine, 'alice');
  const a2 = await connect(engine, 'alice');
  engine.sendToUser('alice', { type: 'notice', text: 'hi' });
  for (const c of [a1, a2]) assert.deepEqual(await c.next(), { type: 'notice', text: 'hi' });
  engine.sendMessageToUser('alice', [1, 2], { from: 'system' });
  const m = await a1.next();
  assert.equal(m.type, 'direct_message');
  assert.equal(m.from, 'system');
  assert.deepEqual(m.content, [1, 2]);
  assert.match(m.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  engine.sendToUser('nobody', { type: 'x' }); // unknown user: not an error
  assert.throws(() => engine.sendToUser('a/b', { type: 'x' }), { code: 'RTC_EINVAL' });
  assert.throws(() => engine.sendToUser('alice', 'text'), { code: 'RTC_EINVAL' });
  assert.throws(() => engine.sendMessageToUser('alice', {}, { from: 3 }), { code: 'RTC_EINVAL' });
  assert.throws(() => engine.sendToUser('x'.repeat(129), {}), { code: 'RTC_EINVAL' });
  await a1.close();
  await a2.close();
});

test('sendToConnection, join, leave and broadcast through Connection handles', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const opened = [];
  engine.on('open', (conn) => opened.push(conn));
  const a = await connect(engine, 'alice');
  const b = await connect(engine, 'bob');
  await until(() => opened.length === 2, 5000, 'open events');
  const [ca, cb] = opened;
  assert.ok(ca instanceof Connection);
  assert.deepEqual(JSON.parse(JSON.stringify(ca)), { id: ca.id, userId: 'alice' });

  engine.sendToConnection(ca, { type: 'only', to: 'a' });
  assert.deepEqual(await a.next(), { type: 'only', to: 'a' });
  cb.sendMessage('plain', { from: 'srv' });
  assert.deepEqual((await b.next()).content, 'plain');

  engine.join(ca, 'lobby');
  cb.join('lobby');
  engine.broadcast('lobby', { type: 'announce', n: 1 });
  assert.deepEqual(await a.next(), { type: 'announce', n: 1 });
  assert.deepEqual(await b.next(), { type: 'announce', n: 1 });
  engine.broadcastMessage('lobby', { hello: true }, { from: 'host' });
  const m = await a.next();
  assert.equal(m.type, 'message');
  assert.equal(m.room, 'lobby');
  assert.equal(m.from, 'host');
  assert.deepEqual(m.content, { hello: true });
  await b.next();

  // Built-in room_message from a client reaches members joined by the host.
  b.send({ type: 'room_message', room: 'lobby', content: 'yo' });
  assert.equal((await a.next((x) => x.type === 'message')).content, 'yo');
  await b.next((x) => x.type === 'message');

  engine.leave(ca, 'lobby');
  ca.leave('lobby'); // leaving twice is harmless
  engine.broadcast('lobby', { type: 'after-leave' });
  assert.deepEqual(await b.next(), { type: 'after-leave' });
  engine.sendToConnection(ca, { type: 'marker' });
  assert.deepEqual(await a.next(), { type: 'marker' }); // no after-leave before it
  assert.throws(() => engine.join('abc', 'lobby'), { code: 'RTC_EINVAL' });
  assert.throws(() => engine.join(ca, ''), { code: 'RTC_EINVAL' });
  assert.throws(() => engine.sendToConnection(ca, null), { code: 'RTC_EINVAL' });
  await a.close();
  await b.close();
});

test('sendError sends an error frame with an optional id', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  let conn;
  engine.on('open', (c) => { conn = c; });
  const a = await connect(engine, 'alice');
  await until(() => conn);
  engine.sendError(conn, 'forbidden', 'not you', 'req-1');
  assert.deepEqual(await a.next(), { type: 'error', code: 'forbidden', message: 'not you', id: 'req-1' });
  conn.sendError('custom', 'x', 7);
  assert.deepEqual(await a.next(), { type: 'error', code: 'custom', message: 'x', id: 7 });
  engine.sendError(conn.id, 'plain');
  assert.deepEqual(await a.next(), { type: 'error', code: 'plain', message: '' });
  assert.throws(() => engine.sendError(conn, ''), { code: 'RTC_EINVAL' });
  assert.throws(() => engine.sendError(conn, 'c', 'm', 1.5), { code: 'RTC_EINVAL' });
  await a.close();
});

test('disconnect and disconnectUser close with the given code', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const conns = [];
  const gone = [];
  engine.on('open', (c) => conns.push(c));
  engine.on('disconnect', (c, code) => gone.push([c.userId, code]));
  const a = await connect(engine, 'alice');
  const b1 = await connect(engine, 'bob');
  const b2 = await connect(engine, 'bob');
  await until(() => conns.length === 3);
  engine.disconnect(conns.find((c) => c.userId === 'alice'), 4001);
  assert.equal((await a.closed).code, 4001);
  engine.disconnectUser('bob', 4002);
  assert.equal((await b1.closed).code, 4002);
  assert.equal((await b2.closed).code, 4002);
  const c = await connect(engine, 'carol');
  await until(() => conns.length === 4);
  conns[3].disconnect(); // default 1000
  assert.equal((await c.closed).code, 1000);
  await until(() => gone.length === 4, 5000, 'disconnect events');
  assert.deepEqual(gone.sort(), [['alice', 4001], ['bob', 4002], ['bob', 4002], ['carol', 1000]]);
  assert.throws(() => engine.disconnect(conns[0], 1001), { code: 'RTC_EINVAL' });
  assert.throws(() => engine.disconnectUser('bob', 2000), { code: 'RTC_EINVAL' });
  const s = engine.stats();
  assert.equal(s.connections, 0);
  assert.equal(s.connectionsTotal, 4);
});
