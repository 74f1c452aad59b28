'use strict';
// The examples as real child processes: the Express integration and the
// reference-compatible chat server.
const { test } = require('node:test');
const path = require('node:path');
const { assert, connect, runNode, examplesDir, withTimeout } = require('./helpers');

// Starts an example and resolves with its first {"event":"listening"} line.
function startExample(file, env) {
  let child;
  const exited = runNode([path.join(examplesDir, file)], { env, timeout: 30000, onLine: (line, c) => {
    child = c;
    const ev = JSON.parse(line);
    if (ev.event === 'listening') ready.resolve(ev);
  } });
  const ready = {};
  const listening = new Promise((resolve) => { ready.resolve = resolve; });
  return {
    listening: withTimeout(Promise.race([listening, exited.then((r) => { throw new Error(`exited: ${r.stderr}`); })]), 15000, file),
    stop: async () => { child.kill('SIGTERM'); return exited; },
  };
}

test('Express: POST /notify/:userId reaches every connection of that user', async () => {
  const ex = startExample('express_notify.js', { HTTP_PORT: '0', WS_PORT: '0' });
  const { httpPort, wsPort } = await ex.listening;
  try {
    const a1 = await connect(wsPort, 'alice');
    const a2 = await connect(wsPort, 'alice');
    const b = await connect(wsPort, 'bob');
    const res = await fetch(`http://127.0.0.1:${httpPort}/notify/alice`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'build finished' }),
    });
    assert.equal(res.status, 202);
    for (const c of [a1, a2]) assert.deepEqual(await c.next(), { type: 'notification', data: { text: 'build finished' } });
    const bad = await fetch(`http://127.0.0.1:${httpPort}/notify/${'x'.repeat(200)}`, { method: 'POST' });
    assert.equal(bad.status, 400);
    const stats = await (await fetch(`http://127.0.0.1:${httpPort}/stats`)).json();
    assert.equal(stats.connections, 3);
    b.send({ type: 'direct_message', to: 'alice', content: 'ok' });
    assert.equal((await a1.next()).from, 'bob');
    await Promise.all([a1.close(), a2.close(), b.close()]);
  } finally {
    const r = await ex.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});

test('chat_server.js speaks the reference protocol and exits 0 on SIGTERM', async () => {
  const ex = startExample('chat_server.js', { PORT: '0' });
  const { port } = await ex.listening;
  let stdout;
  try {
    const alice = await connect(port, 'alice');
    const bob = await connect(port, 'bob');
    // The example greets each connection from the server (examples/README.md).
    for (const [c, user] of [[alice, 'alice'], [bob, 'bob']]) {
      const hello = await c.next();
      assert.deepEqual([hello.type, hello.from, hello.content], ['direct_message', '', { welcome: user }]);
    }
    // As with the reference server, a client may send right after open.
    alice.send({ type: 'join_room', room: 'general' });
    bob.send({ type: 'join_room', room: 'general' });
    await new Promise((r) => setTimeout(r, 100));
    alice.send({ type: 'room_message', room: 'general', content: 'Hello!' });
    for (const c of [alice, bob]) {
      const m = await c.next();
      assert.equal(m.type, 'message');
      assert.equal(m.room, 'general');
      assert.equal(m.from, 'alice');
      assert.equal(m.content, 'Hello!');
    }
    bob.send({ type: 'direct_message', to: 'alice', content: { x: 1 } });
    const dm = await alice.next();
    assert.deepEqual([dm.type, dm.from, dm.content], ['direct_message', 'bob', { x: 1 }]);
    bob.send({ type: 'leave_room', room: 'general' });
    await alice.close();
  } finally {
    const r = await ex.stop();
    stdout = r.stdout;
    assert.equal(r.code, 0, r.stderr);
  }
  const events = stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(events.some((e) => e.event === 'presence' && e.userId === 'alice' && e.status === 'online'));
  assert.equal(events.at(-1).event, 'closed');
});
