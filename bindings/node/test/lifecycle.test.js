'use strict';
// close() with open connections, and process exit with and without close().
const { test } = require('node:test');
const { assert, startEngine, connect, until, runNode, sleep } = require('./helpers');

test('close() with open connections: clients get 1001, disconnects arrive before it resolves', async () => {
  const engine = await startEngine();
  const gone = [];
  engine.on('disconnect', (c, code) => gone.push(code));
  const clients = await Promise.all(['a', 'b', 'c'].map((u) => connect(engine, u)));
  await until(() => engine.stats().connections === 3);
  let closedEvent = false;
  engine.on('close', () => { closedEvent = true; });
  const p1 = engine.close();
  const p2 = engine.close(); // a second close waits for the same stop
  await Promise.all([p1, p2]);
  assert.equal(closedEvent, true);
  assert.deepEqual(gone, [1001, 1001, 1001]);
  for (const c of clients) assert.equal((await c.closed).code, 1001);
});

test('close() before listen() resolves and leaves nothing running', async () => {
  const { Engine } = require('./helpers').rtcore;
  const e = new Engine({ port: 0 });
  await e.close();
  await assert.rejects(e.listen(), { code: 'RTC_ESTATE' });
});

// Child scripts: each connects a client to its own engine when asked.
const CHILD = `
const { Engine } = require('rtcore');
const WebSocket = require('ws');
const mode = process.env.MODE;
(async () => {
  const e = new Engine({ port: 0 });
  e.on('presence', () => {});
  await e.listen();
  const ws = new WebSocket('ws://127.0.0.1:' + e.port + '/ws/child');
  ws.on('close', (code) => console.log('client closed ' + code));
  await new Promise((r) => ws.on('open', r));
  if (mode === 'close') { await e.close(); return; }
  if (mode === 'exit') { setTimeout(() => process.exit(0), 50); return; }
  if (mode === 'unref') { ws.terminate(); e.unref(); return; }
  if (mode === 'throw') { setTimeout(() => { throw new Error('uncaught in child'); }, 50); return; }
  if (mode === 'ref') { ws.terminate(); console.log('serving'); }
})();
`;

test('child: close() lets the process exit on its own', async () => {
  const r = await runNode(['-e', CHILD], { env: { MODE: 'close' }, timeout: 10000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /client closed 1001/);
});

test('child: process.exit() without close() stops the engine cleanly', async () => {
  const r = await runNode(['-e', CHILD], { env: { MODE: 'exit' }, timeout: 10000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.signal, null);
  assert.doesNotMatch(r.stderr, /Segmentation|Aborted|terminate/);
});

test('child: an unref()d engine does not keep a finished program alive', async () => {
  const r = await runNode(['-e', CHILD], { env: { MODE: 'unref' }, timeout: 10000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.signal, null);
});

test('child: an uncaught exception exits with 1, no hang, no crash', async () => {
  const r = await runNode(['-e', CHILD], { env: { MODE: 'throw' }, timeout: 10000 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /uncaught in child/);
  assert.equal(r.signal, null);
});

test('child: a listening engine keeps the process alive like a server', async () => {
  let child;
  const r = runNode(['-e', CHILD], {
    env: { MODE: 'ref' },
    timeout: 10000,
    onLine: (line, c) => { if (line === 'serving') child = c; },
  });
  await until(() => child, 5000, 'child serving');
  await sleep(500);
  assert.equal(child.exitCode, null);
  child.kill('SIGTERM');
  assert.equal((await r).signal, 'SIGTERM');
});

const EXITING = `
const { Engine } = require('rtcore');
(async () => {
  const e = new Engine({ port: 0 });
  await e.listen();
  console.log(e.port);
  setTimeout(() => { if (process.env.MODE === 'throw') throw new Error('x'); process.exit(3); }, 500);
})();`;

for (const mode of ['exit', 'throw']) {
  test(`child: on ${mode === 'exit' ? 'process.exit()' : 'an uncaught exception'} outside clients get 1001`, async () => {
    const { connect: connectTo } = require('./helpers');
    let closed;
    const r = await runNode(['-e', EXITING], {
      env: { MODE: mode },
      timeout: 10000,
      onLine: (line) => { closed = connectTo(Number(line), 'outside').then((c) => c.closed); },
    });
    assert.equal(r.code, mode === 'exit' ? 3 : 1);
    assert.equal((await closed).code, 1001);
  });
}
