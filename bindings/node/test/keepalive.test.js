'use strict';
// Process lifetime (issue 13, point 1): a listening engine keeps the
// process alive exactly as a listening net.Server does; unref()/ref() as on
// net.Server; a closed engine keeps nothing alive. Each case is a real
// child process.
const { test } = require('node:test');
const { assert, until, runNode, sleep } = require('./helpers');

// MODE picks what the child does after `new Engine(OPTIONS)`; it prints
// 'listening' once listen() resolved.
const CHILD = `
const { Engine } = require('rtcore');
const mode = process.env.MODE;
(async () => {
  const e = new Engine({ port: 0, ...JSON.parse(process.env.OPTIONS || '{}') });
  if (mode === 'unref-first') e.unref();
  process.on('SIGTERM', () => { if (mode === 'close-on-term') e.close().then(() => console.log('closed')); else process.exit(143); });
  await e.listen();
  if (mode === 'unref') e.unref();
  if (mode === 'unref-ref') e.unref().ref();
  if (mode === 'close') { await e.close(); e.ref(); console.log('closed'); }
  if (mode === 'close-later') setTimeout(() => e.close().then(() => console.log('closed')), 1000).unref();
  console.log('listening');
})();
`;

// Starts the child, waits for 'listening', then 1 s more, and returns
// whether it was still running then, plus the child and its result.
async function aliveAfterListen(mode, options = {}) {
  let child;
  const result = runNode(['-e', CHILD], {
    env: { MODE: mode, OPTIONS: JSON.stringify(options) },
    timeout: 10000,
    onLine: (line, c) => { if (line === 'listening') child = c; },
  });
  const early = result.then((r) => { if (!child) throw new Error(`child exited before listening: ${r.stderr}`); });
  await Promise.race([until(() => child, 5000, 'child listening'), early]);
  await sleep(1000);
  return { alive: child.exitCode === null && child.signalCode === null, child, result };
}

test('a program that only awaits listen() keeps running until it is killed', async () => {
  const { alive, child, result } = await aliveAfterListen('listen');
  assert.equal(alive, true);
  child.kill('SIGKILL');
  assert.equal((await result).signal, 'SIGKILL');
});

test('a listening engine keeps running until SIGTERM makes it close(), then exits by itself', async () => {
  const { alive, child, result } = await aliveAfterListen('close-on-term');
  assert.equal(alive, true);
  child.kill('SIGTERM');
  const r = await result;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.signal, null);
  assert.match(r.stdout, /closed/);
});

test('close() from an unref()d timer after 1 s: the engine kept the process alive, then nothing does', async () => {
  const started = Date.now();
  const r = await runNode(['-e', CHILD], { env: { MODE: 'close-later' }, timeout: 10000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /closed/); // the unref()d timer only fires if the engine kept the process up
  assert.ok(Date.now() - started >= 1000);
});

test('unref() after listen() lets the program exit', async () => {
  const r = await runNode(['-e', CHILD], { env: { MODE: 'unref' }, timeout: 10000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.signal, null);
  assert.match(r.stdout, /listening/);
});

test('unref() before listen() lets the program exit', async () => {
  const r = await runNode(['-e', CHILD], { env: { MODE: 'unref-first' }, timeout: 10000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /listening/);
});

test('ref() after unref() keeps the process alive again', async () => {
  const { alive, child, result } = await aliveAfterListen('unref-ref');
  assert.equal(alive, true);
  child.kill('SIGKILL');
  await result;
});

test('a closed engine keeps nothing alive, even after ref()', async () => {
  const r = await runNode(['-e', CHILD], { env: { MODE: 'close' }, timeout: 10000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /closed/);
});

test('deprecated keepAlive: true is the default, false starts unref()d', async () => {
  const { alive, child, result } = await aliveAfterListen('listen', { keepAlive: true });
  assert.equal(alive, true);
  child.kill('SIGKILL');
  await result;
  const r = await runNode(['-e', CHILD], { env: { MODE: 'listen', OPTIONS: '{"keepAlive":false}' }, timeout: 10000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /listening/);
});
