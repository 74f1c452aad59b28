'use strict';
// A stalled JS thread cannot make a flood of host-defined messages grow the
// process without bound: past 64 MiB waiting, messages are refused with
// error "overloaded" (lifecycle events are never dropped).
const { test } = require('node:test');
const { Worker } = require('node:worker_threads');
const { assert, startEngine } = require('./helpers');

// The flooding client runs in a worker: the main thread is the one we stall.
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
// ws resolved by the test file: an eval'd worker resolves from the cwd.
const WebSocket = require(workerData.wsPath);
const ws = new WebSocket(workerData.url, { perMessageDeflate: false, maxPayload: 0 });
const codes = [];
ws.on('open', () => {
  const body = 'x'.repeat(900000);  // under the 1 MiB message limit
  for (let i = 0; i < 90; i++) ws.send(JSON.stringify({ type: 'bulk', n: i, id: i, body }));
});
ws.on('message', (data) => {
  const m = JSON.parse(data);
  codes.push(m.code);
  if (m.code === 'overloaded') { parentPort.postMessage({ codes, id: m.id }); ws.terminate(); }
});
setTimeout(() => { parentPort.postMessage({ codes }); ws.terminate(); }, 20000);
`;

test('a flood while the JS thread is stalled is answered with overloaded', { timeout: 60000 }, async (t) => {
  const engine = await startEngine({ rateLimit: 0 });
  t.after(() => engine.close());
  let calls = 0;
  engine.on('message:bulk', () => {
    calls += 1;
    if (calls === 1) {
      const until = Date.now() + 4000;
      while (Date.now() < until) { /* the JS thread is stuck here while the client floods */ }
    }
  });
  const worker = new Worker(CLIENT, { eval: true, workerData: { url: `${engine.url}/ws/flooder`, wsPath: require.resolve('ws') } });
  const { codes, id } = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.ok(codes.includes('overloaded'), `codes: ${codes}`);
  // The refusal answers that message's id (from the engine, not re-parsed).
  assert.ok(Number.isInteger(id) && id >= 1 && id < 90, `id: ${id}`);
  assert.ok(calls > 1 && calls < 90, `calls: ${calls}`);
});
