'use strict';
// Two Node hosts sharing one Redis act as one (skipped without redis-server).
const { test, before, after } = require('node:test');
const { spawn, execFileSync } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const { assert, startEngine, connect, until, runNode, examplesDir } = require('./helpers');

let redis;
let redisUrl;
const hasRedis = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  if (!hasRedis) return;
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' });
  redisUrl = `redis://127.0.0.1:${port}`;
  await until(() => new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  }), 5000, 'redis-server');
});

after(() => redis && redis.kill());

test('rooms, direct messages and presence span two engines', { skip: !hasRedis && 'no redis-server' }, async (t) => {
  const a = await startEngine({ redisUrl, nodeId: 'a' });
  const b = await startEngine({ redisUrl, nodeId: 'b' });
  t.after(() => Promise.all([a.close(), b.close()]));
  await until(() => a.stats().backplaneConnected === 1 && b.stats().backplaneConnected === 1, 5000, 'backplane up');
  const presence = [];
  b.on('presence', (ev) => presence.push(`${ev.userId}:${ev.status}`));

  const alice = await connect(a, 'alice');
  const bob = await connect(b, 'bob');
  alice.send({ type: 'join_room', room: 'lobby', id: 1 });
  await alice.next((m) => m.type === 'ack');
  bob.send({ type: 'join_room', room: 'lobby', id: 1 });
  await bob.next((m) => m.type === 'ack');
  bob.send({ type: 'room_message', room: 'lobby', content: 'hi from b', id: 2 });
  const m = await alice.next((x) => x.type === 'message');
  assert.equal(m.from, 'bob');
  assert.equal(m.content, 'hi from b');
  alice.send({ type: 'direct_message', to: 'bob', content: 'dm' });
  assert.equal((await bob.next((x) => x.type === 'direct_message')).content, 'dm');
  // Host calls on one node reach users on the other.
  a.sendToUser('bob', { type: 'notice' });
  assert.deepEqual(await bob.next((x) => x.type === 'notice'), { type: 'notice' });
  b.broadcast('lobby', { type: 'all' });
  assert.deepEqual(await alice.next((x) => x.type === 'all'), { type: 'all' });
  await until(() => presence.includes('alice:online'), 5000, 'alice online seen on b');
  await alice.close();
  await until(() => presence.includes('alice:offline'), 5000, 'alice offline seen on b');
  await bob.close();
});

test('examples/node/chat_cluster.js runs two nodes on one Redis', { skip: !hasRedis && 'no redis-server' }, async () => {
  const ports = [];
  const kids = [];
  const started = new Promise((resolve) => {
    for (const id of ['n1', 'n2']) {
      runNode([path.join(examplesDir, 'chat_cluster.js')], {
        env: { REDIS_URL: redisUrl, PORT: '0', NODE_ID: id },
        onLine: (line, child) => {
          const ev = JSON.parse(line);
          if (ev.event === 'listening') {
            ports.push(ev.port);
            kids.push(child);
            if (ports.length === 2) resolve();
          }
        },
      });
    }
  });
  await started;
  try {
    const [p1, p2] = ports;
    const x = await connect(p1, 'x');
    const y = await connect(p2, 'y');
    await new Promise((r) => setTimeout(r, 300)); // both nodes subscribed to their users
    x.send({ type: 'direct_message', to: 'y', content: 42 });
    assert.equal((await y.next((m) => m.type === 'direct_message')).content, 42);
    await x.close();
    await y.close();
  } finally {
    for (const k of kids) k.kill('SIGTERM');
  }
});

test('chat_cluster.js without REDIS_URL exits 2 with a clear message', async () => {
  const r = await runNode([path.join(examplesDir, 'chat_cluster.js')], { env: { REDIS_URL: '', PORT: '0' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /set REDIS_URL/);
});
