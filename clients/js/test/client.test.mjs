// The client against one real rtcore-server: connection, rooms and acks,
// errors, direct messages, presence, offline queue, reconnection after a
// SIGKILL, tokens, close without leftovers.
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, RtcoreClientError, buildUrl } from '../src/index.js';
import { Server, WebSocket, rawClient, once, until, sleep, jwt, secretFile, serverAvailable, SERVER } from './support.mjs';

const skip = serverAvailable() ? false : `no rtcore-server at ${SERVER}; run scripts/build.sh build`;
const fast = { WebSocket, minDelay: 50, maxDelay: 400 };

function open(t, server, userId, extra = {}) {
  const c = connect(server.url, { userId, ...fast, ...extra });
  t.after(() => c.close());
  return c;
}

test('buildUrl puts the user id in the path, percent-encoded, and the token in the query', () => {
  assert.equal(buildUrl('ws://h:1', 'john+test@example.com'), 'ws://h:1/ws/john%2Btest%40example.com');
  assert.equal(buildUrl('ws://h:1/ws', 'a b'), 'ws://h:1/ws/a%20b');
  assert.equal(buildUrl('ws://h:1/', null, 'T.K.N'), 'ws://h:1/ws?token=T.K.N');
  assert.equal(buildUrl('ws://h:1/custom/alice', 'x'), 'ws://h:1/custom/alice');
  assert.equal(buildUrl('ws://h:1', 'bob', 'tok', 'subprotocol'), 'ws://h:1/ws/bob');
});

test('connect emits connecting then connected; join, send and the ack; messages arrive on room and client', { skip }, async (t) => {
  const server = await Server.start(t);
  const a = open(t, server, 'alice');
  const b = open(t, server, 'bob');
  const states = [];
  a.on('state', (s) => states.push(s));
  await once(a, 'connected');
  assert.deepEqual(states, ['connecting', 'connected']);
  const ra = a.room('lobby');
  const rb = b.room('lobby');
  assert.equal(a.room('lobby'), ra, 'one Room object per name');
  await Promise.all([ra.join(), rb.join()]);
  const got = [];
  rb.on('message', (m) => got.push(m));
  const ack = await ra.send({ text: 'hi', n: 1 });
  assert.equal(ack.type, 'ack');
  await until(() => got.length === 1);
  assert.equal(got[0].from, 'alice');
  assert.deepEqual(got[0].content, { text: 'hi', n: 1 });
  assert.equal(got[0].room, 'lobby');
});

test('an error answer rejects the send with the server code; the connection stays', { skip }, async (t) => {
  const server = await Server.start(t);
  const a = open(t, server, 'alice');
  await assert.rejects(a.room('never-joined').send('x'), (e) => e instanceof RtcoreClientError && e.code === 'not_in_room');
  await assert.rejects(a.request({ type: 'custom_thing' }), { code: 'unknown_type' });
  assert.equal(a.state, 'connected');
  await a.room('ok').join();
  await a.room('ok').send('fine');
});

test('direct messages: sendDirect resolves on the ack, the recipient gets on("direct")', { skip }, async (t) => {
  const server = await Server.start(t);
  const a = open(t, server, 'alice');
  const b = open(t, server, 'bob');
  await once(b, 'connected');
  const dms = [];
  b.on('direct', (m) => dms.push(m));
  await a.sendDirect('bob', 'psst');
  await a.sendDirect('bob', { n: 2 });
  await until(() => dms.length === 2);
  assert.deepEqual(dms.map((m) => [m.from, m.content]), [['alice', 'psst'], ['alice', { n: 2 }]]);
});

test('presence(room), online(users), user_joined and user_left events', { skip }, async (t) => {
  const server = await Server.start(t);
  const a = open(t, server, 'alice');
  const room = a.room('lobby', { presence: true });
  await room.join();
  const events = [];
  room.on('user_joined', (e) => events.push(['joined', e.user]));
  room.on('user_left', (e) => events.push(['left', e.user]));
  const b = open(t, server, 'bob');
  await b.room('lobby').join();
  await until(() => events.length === 1, { what: 'user_joined' });
  const p = await room.members();
  assert.deepEqual(p.users.sort(), ['alice', 'bob']);
  assert.equal(p.truncated, false);
  assert.deepEqual(await a.online(['bob', 'carol']), { bob: true, carol: false });
  await b.room('lobby').leave();
  await until(() => events.length === 2, { what: 'user_left' });
  assert.deepEqual(events, [['joined', 'bob'], ['left', 'bob']]);
});

test('offline queue: sends while disconnected go out after reconnect, in order; beyond the bound they reject', { skip }, async (t) => {
  const server = await Server.start(t);
  // Slow to come back, so the watcher below is in the room first.
  const a = open(t, server, 'alice', { maxQueue: 5, minDelay: 600, maxDelay: 800 });
  await a.room('r').join();
  await server.kill();
  await once(a, 'disconnected');
  const sends = [1, 2, 3, 4, 5].map((n) => a.room('r').send(n));
  await assert.rejects(a.room('r').send(6), { code: 'queue_full' });
  await server.start();
  const b = await rawClient(`${server.url}/ws/bob`);
  t.after(() => b.close());
  await b.request({ type: 'join_room', room: 'r' });
  await Promise.all(sends);
  await until(() => b.frames.filter((f) => f.type === 'message').length === 5, { what: 'the 5 queued messages' });
  assert.deepEqual(b.frames.filter((f) => f.type === 'message').map((f) => f.content), [1, 2, 3, 4, 5]);
});

test('SIGKILL mid-conversation: both sides reconnect, rejoin and keep talking', { skip }, async (t) => {
  const server = await Server.start(t);
  const a = open(t, server, 'alice');
  const b = open(t, server, 'bob');
  await Promise.all([a.room('r').join(), b.room('r').join()]);
  const got = [];
  b.room('r').on('message', (m) => got.push(m.content));
  const dms = [];
  b.on('direct', (m) => dms.push(m.content));
  for (let i = 0; i < 10; i++) await a.room('r').send(i);
  const states = [];
  b.on('state', (s, info) => states.push([s, info.willReconnect]));
  await server.kill();
  await until(() => a.state !== 'connected' && b.state !== 'connected');
  await server.start();
  await until(() => a.room('r').state === 'joined' && b.room('r').state === 'joined', { what: 'rejoin' });
  for (let i = 10; i < 20; i++) await a.room('r').send(i);
  await a.sendDirect('bob', 'after');
  await until(() => got.length >= 20 && dms.length === 1);
  assert.deepEqual(got, [...Array(20).keys()]);
  assert.deepEqual(dms, ['after']);
  assert.deepEqual(states[0], ['disconnected', true]);
  assert.ok(states.some(([s]) => s === 'connected'));
});

test('a send in flight when the socket dies rejects with disconnected (maybe delivered)', { skip }, async (t) => {
  const server = await Server.start(t);
  const a = open(t, server, 'alice');
  await a.room('r').join();
  // Kill the server without letting the ack out: SIGSTOP then SIGKILL.
  server.proc.kill('SIGSTOP');
  // kill() returns before the signal has stopped the process: wait until
  // it is really stopped, or the server may still read and ack the send.
  await until(() => readFileSync(`/proc/${server.proc.pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T'), {
    what: 'the server stopped',
  });
  const p = a.room('r').send('lost?');
  const settled = assert.rejects(p, (e) => e.code === 'disconnected' && e.maybeDelivered === true);
  await sleep(50);
  await server.kill();
  await settled;
});

test('close codes that mean go away (4401, 4403, 1008) stop reconnection; others back off with jitter', async (t) => {
  const { WebSocketServer } = await import('ws');
  for (const code of [4401, 4403, 1008]) {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    let connections = 0;
    wss.on('connection', (ws) => {
      connections++;
      ws.close(code, 'go away');
    });
    const c = connect(`ws://127.0.0.1:${wss.address().port}`, { userId: 'u', ...fast });
    const closed = await once(c, 'closed');
    assert.equal(closed.code, code);
    await assert.rejects(c.room('x').send(1), { code: 'closed' });
    await sleep(300);
    assert.equal(connections, 1, `no reconnect after ${code}`);
    c.close();
    await new Promise((r) => wss.close(r));
  }
  // 1001 (server going away for a restart) and 1006 reconnect, with growing, capped, jittered delays.
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  wss.on('connection', (ws) => ws.close(1001, 'restart'));
  const c = connect(`ws://127.0.0.1:${wss.address().port}`, { userId: 'u', WebSocket, minDelay: 20, maxDelay: 160 });
  // (the server opens each socket; opened-then-closed at once must still back off)
  const delays = [];
  c.on('disconnected', (i) => delays.push(i.delay));
  await until(() => delays.length >= 7, { what: '7 reconnects' });
  c.close();
  await new Promise((r) => wss.close(r));
  const caps = [20, 40, 80, 160, 160, 160, 160];
  delays.slice(0, 7).forEach((d, i) => assert.ok(d >= caps[i] / 2 && d <= caps[i], `delay ${i} = ${d}, cap ${caps[i]}`));
});

test('getToken is called again for every connection (short-lived JWTs)', { skip }, async (t) => {
  const secret = 'client-test-secret';
  const server = await Server.start(t, ['--auth', 'jwt-hs256', '--jwt-secret-file', secretFile(t, secret)]);
  let calls = 0;
  const getToken = async () => {
    calls++;
    return jwt(secret, { sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60, n: calls });
  };
  const a = open(t, server, null, { getToken });
  await a.room('r').join();
  assert.equal(calls, 1);
  await server.kill();
  await server.start();
  await until(() => a.room('r').state === 'joined' && calls >= 2, { what: 'reconnect with a new token' });
  const b = open(t, server, 'bob', { getToken: () => jwt(secret, { sub: 'bob' }) });
  await b.room('r').join();
  const got = once(b.room('r'), 'message');
  await a.room('r').send('with token');
  assert.equal((await got).from, 'alice');
  // The subprotocol form carries a short token as well.
  const short = jwt(secret, { sub: 'c' });
  const c = open(t, server, 'c', { token: short, tokenTransport: 'subprotocol' });
  await once(c, 'connected');
});

test('close() leaves no timer or socket behind and rejects what waits', { skip }, async (t) => {
  const server = await Server.start(t);
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const a = connect(server.url, { userId: 'alice', ...fast });
  await a.room('r').join();
  await server.kill();
  await once(a, 'disconnected'); // a reconnect timer is now pending
  const queued = a.room('r').send('never');
  a.close();
  await assert.rejects(queued, { code: 'closed' });
  assert.equal(a.state, 'closed');
  await sleep(20);
  const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  assert.ok(after <= before, `timers before ${before}, after ${after}`);
});

test('the CommonJS build exports the same API and is up to date', async () => {
  const { createRequire } = await import('node:module');
  const cjs = createRequire(import.meta.url)('../dist/index.cjs');
  assert.deepEqual(Object.keys(cjs).sort(), ['Client', 'Room', 'RtcoreClientError', 'buildUrl', 'connect']);
  const { execFileSync } = await import('node:child_process');
  execFileSync(process.execPath, [new URL('../scripts/build.mjs', import.meta.url).pathname, '--check']);
});

test('index.d.ts type-checks the documented usage (tsc --noEmit)', async () => {
  const { execFileSync } = await import('node:child_process');
  const tsc = new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname;
  execFileSync(process.execPath, [tsc, '-p', new URL('./types', import.meta.url).pathname], { stdio: 'pipe' });
});
