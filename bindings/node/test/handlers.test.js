'use strict';
// Host-defined message types reach 'message:<type>' listeners; built-ins
// never reach JS; listener failures become error frames, never crashes.
const { test } = require('node:test');
const { assert, startEngine, connect, until, sleep } = require('./helpers');

test('a custom type reaches its listener with the connection and message', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const seen = [];
  engine.on('message:typing', (conn, msg) => {
    seen.push([conn.userId, msg]);
    engine.broadcast(msg.room, { type: 'typing', from: conn.userId });
  });
  const a = await connect(engine, 'alice');
  const b = await connect(engine, 'bob');
  b.send({ type: 'join_room', room: 'r', id: 1 });
  await b.next((m) => m.type === 'ack');
  a.send({ type: 'typing', room: 'r' });
  assert.deepEqual(await b.next(), { type: 'typing', from: 'alice' });
  assert.deepEqual(seen, [['alice', { type: 'typing', room: 'r' }]]);
  await a.close();
  await b.close();
});

test('the catch-all "message" listener sees host types but never built-ins', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const types = [];
  engine.on('message', (conn, msg) => types.push(msg.type));
  const a = await connect(engine, 'alice');
  a.send({ type: 'join_room', room: 'r' });
  a.send({ type: 'room_message', room: 'r', content: 1 });
  a.send({ type: 'direct_message', to: 'alice', content: 2 });
  a.send({ type: 'leave_room', room: 'r' });
  a.send({ type: 'custom', id: 5 });
  await a.next((m) => m.type === 'direct_message');
  await until(() => types.length === 1);
  await sleep(50);
  assert.deepEqual(types, ['custom']);
  await a.close();
});

test('a type with no listener is answered unknown_type with its id, without JS', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const a = await connect(engine, 'alice');
  a.send({ type: 'nobody', id: 'q1' });
  assert.deepEqual(await a.next(), { type: 'error', code: 'unknown_type', message: 'no handler for message type "nobody"', id: 'q1' });
  const handler = () => { a.send({ type: 'noted' }); };
  engine.on('message:later', handler);
  a.send({ type: 'later', id: 2 });
  await until(() => engine.stats().messagesIn >= 3); // the listener ran (it sent 'noted')
  a.messages.length = 0;
  engine.off('message:later', handler);
  a.send({ type: 'later', id: 3 });
  const err = await a.next((m) => m.type === 'error' && m.id === 3);
  assert.equal(err.code, 'unknown_type');
  await a.close();
});

test('sync and async handler failures answer internal_error and emit error', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const errors = [];
  engine.on('error', (err) => errors.push(err.message));
  engine.on('message:sync', () => { throw new Error('sync boom'); });
  engine.on('message:async', async () => { await sleep(5); throw new Error('async boom'); });
  const a = await connect(engine, 'alice');
  a.send({ type: 'sync', id: 1 });
  a.send({ type: 'async', id: 'two' });
  a.send({ type: 'sync' });
  const e1 = await a.next((m) => m.id === 1);
  const e2 = await a.next((m) => m.id === 'two');
  const e3 = await a.next((m) => m.type === 'error' && m.id === undefined);
  for (const e of [e1, e2, e3]) assert.equal(e.code, 'internal_error');
  assert.deepEqual(errors.sort(), ['async boom', 'sync boom', 'sync boom']);
  // The connection and the engine carry on.
  a.send({ type: 'join_room', room: 'x', id: 9 });
  assert.deepEqual(await a.next(), { type: 'ack', id: 9 });
  await a.close();
});

test('without an error listener, failures go to console.error and do not crash', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const logged = [];
  const orig = console.error;
  console.error = (...args) => logged.push(args.join(' '));
  t.after(() => { console.error = orig; });
  engine.on('message:bad', () => { throw new Error('unheard'); });
  engine.on('open', () => { throw new Error('open listener bug'); });
  const a = await connect(engine, 'alice');
  a.send({ type: 'bad', id: 1 });
  assert.equal((await a.next()).code, 'internal_error');
  await until(() => logged.length >= 2);
  assert.ok(logged.some((l) => /unheard/.test(l)));
  assert.ok(logged.some((l) => /open listener bug/.test(l)));
  await a.close();
});

test('events arrive in batches: many messages, few JS wake-ups, in order', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const got = [];
  // Listeners called from one batch run in one JS turn: count the turns.
  let turns = 0;
  let inTurn = false;
  engine.on('message:n', (conn, msg) => {
    got.push(msg.n);
    if (!inTurn) {
      inTurn = true;
      turns++;
      queueMicrotask(() => { inTurn = false; });
    }
  });
  const a = await connect(engine, 'alice');
  for (let i = 0; i < 2000; i++) a.send({ type: 'n', n: i });
  await until(() => got.length === 2000, 10000, '2000 messages');
  assert.deepEqual(got, Array.from({ length: 2000 }, (_, i) => i));
  t.diagnostic(`2000 messages in ${turns} JS wake-ups`);
  assert.ok(turns < 1000, `expected batches, got ${turns} wake-ups for 2000 messages`);
  await a.close();
});
