'use strict';
// The send model (docs/hosts.md): frame sends send the object (or JSON text)
// as is; the *Message calls build the protocol envelope with from and
// timestamp (and an offset with history); a frame send given { from } keeps
// its old envelope meaning with a one-time DeprecationWarning.
const { test } = require('node:test');
const { assert, startEngine, connect, until, sleep } = require('./helpers');

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function pair(t, options) {
  const engine = await startEngine(options);
  t.after(() => engine.close());
  const opened = [];
  engine.on('open', (conn) => opened.push(conn));
  const a = await connect(engine, 'alice');
  const b = await connect(engine, 'bob');
  t.after(() => Promise.all([a.close(), b.close()]));
  await until(() => opened.length === 2, 5000, 'open events');
  const ca = opened.find((c) => c.userId === 'alice');
  const cb = opened.find((c) => c.userId === 'bob');
  engine.join(ca, 'r');
  engine.join(cb, 'r');
  return { engine, a, b, ca, cb };
}

test('frame sends send the object, or the JSON text, as is', async (t) => {
  const { engine, a, b, ca, cb } = await pair(t);
  const typing = { type: 'typing', from: 'alice' };
  engine.broadcast('r', typing);
  assert.deepEqual(await a.next(), typing);
  assert.deepEqual(await b.next(), typing);
  engine.broadcast('r', '{"type":"note","n":1}');
  assert.deepEqual(await a.next(), { type: 'note', n: 1 });
  assert.deepEqual(await b.next(), { type: 'note', n: 1 });
  engine.sendToUser('bob', { type: 'to_user', x: [1, 'ü'] });
  assert.deepEqual(await b.next(), { type: 'to_user', x: [1, 'ü'] });
  engine.sendToConnection(ca, { type: 'to_conn' });
  assert.deepEqual(await a.next(), { type: 'to_conn' });
  cb.send({ type: 'via_conn' });
  assert.deepEqual(await b.next(), { type: 'via_conn' });
  for (const bad of [1, [1], null, undefined]) assert.throws(() => engine.broadcast('r', bad), { code: 'RTC_EINVAL' });
  assert.throws(() => engine.sendToUser('bob', 'not json'), { code: 'RTC_EINVAL' });
  await sleep(50);
  assert.equal(a.messages.length + b.messages.length, 0);
});

test('envelope sends build message / direct_message with from and timestamp', async (t) => {
  const { engine, a, b, ca, cb } = await pair(t);
  engine.broadcastMessage('r', { text: 'hi' }, { from: 'host' });
  for (const c of [a, b]) {
    const m = await c.next();
    assert.deepEqual(Object.keys(m).sort(), ['content', 'from', 'room', 'timestamp', 'type']);
    assert.deepEqual([m.type, m.room, m.from, m.content], ['message', 'r', 'host', { text: 'hi' }]);
    assert.match(m.timestamp, TS);
  }
  engine.broadcastMessage('r', 'plain'); // from defaults to '' (a server message)
  for (const c of [a, b]) assert.deepEqual([(await c.next()).from, c.messages.length], ['', 0]);
  engine.sendMessageToUser('bob', [1, 2], { sender: 'alice' }); // sender: an alias of from
  const dm = await b.next();
  assert.deepEqual(Object.keys(dm).sort(), ['content', 'from', 'timestamp', 'type']);
  assert.deepEqual([dm.type, dm.from, dm.content], ['direct_message', 'alice', [1, 2]]);
  engine.sendMessageToConnection(ca, 3);
  assert.deepEqual(await a.next().then((m) => [m.type, m.from, m.content]), ['direct_message', '', 3]);
  cb.sendMessage({ k: true }, { from: 'srv' });
  const m = await b.next();
  assert.deepEqual([m.type, m.from, m.content], ['direct_message', 'srv', { k: true }]);
  assert.match(m.timestamp, TS);
  assert.throws(() => engine.broadcastMessage('r', 1, { from: 3 }), { code: 'RTC_EINVAL' });
  assert.throws(() => engine.sendMessageToUser('bob', () => 1), { code: 'RTC_EINVAL' });
});

test('envelope sends carry offsets with history; frames do not', async (t) => {
  const { engine, a } = await pair(t, { historySize: 10 });
  engine.broadcastMessage('r', 'one', { from: 'host' });
  const first = await a.next();
  assert.equal(first.from, 'host');
  assert.ok(Number.isInteger(first.offset) && first.offset >= 1);
  engine.broadcast('r', { type: 'typing' });
  assert.deepEqual(await a.next(), { type: 'typing' });
  engine.broadcastMessage('r', 'two');
  assert.equal((await a.next()).offset, first.offset + 1);
  engine.sendMessageToUser('alice', 'dm');
  const dm = await a.next((m) => m.type === 'direct_message');
  assert.ok(Number.isInteger(dm.offset));
  const stored = await engine.history('r');
  assert.deepEqual(stored.messages.map((x) => x.content), ['one', 'two']);
});

test('a frame send given { from } warns once and sends the envelope', async (t) => {
  const { engine, a, ca } = await pair(t);
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  engine.sendToUser('alice', { n: 1 }, { from: 'old' });
  const m = await a.next();
  assert.deepEqual([m.type, m.from, m.content], ['direct_message', 'old', { n: 1 }]);
  engine.broadcast('r', { n: 2 }, { from: 'old' });
  const r = await a.next((x) => x.type === 'message');
  assert.deepEqual([r.room, r.from, r.content], ['r', 'old', { n: 2 }]);
  ca.send({ n: 3 }, { sender: 'old' });
  assert.equal((await a.next()).type, 'direct_message');
  await sleep(20); // process warnings are emitted on the next tick
  const dep = warnings.filter((w) => w.name === 'DeprecationWarning' && w.code === 'RTCORE_DEP_SEND_FROM');
  assert.equal(dep.length, 1);
  assert.match(dep[0].message, /sendMessageToUser/);
});
