'use strict';
// The ack rule (docs/hosts.md, docs/protocol.md section 2): exactly one ack
// or one error per host-defined message carrying an id. "Exactly one" is
// checked by sending a marker message afterwards and asserting that its
// answer is the very next frame.
const { test } = require('node:test');
const { assert, rtcore, startEngine, connect, until, sleep } = require('./helpers');

async function setup(t) {
  const engine = await startEngine();
  t.after(() => engine.close());
  const reported = [];
  engine.on('error', (err) => reported.push(err));
  engine.on('message:ok', async () => { await sleep(5); });
  engine.on('message:ok_sync', () => {});
  engine.on('message:boom', async () => { await sleep(1); throw new Error('secret detail'); });
  engine.on('message:boom_sync', () => { throw new Error('sync secret'); });
  engine.on('message:refuse', () => { throw new rtcore.MessageError('invalid_field', 'no such thing'); });
  engine.on('message:answer_self', async (conn, msg, id) => {
    await sleep(1);
    conn.sendError('not_allowed', 'the handler answered', id);
  });
  engine.on('message:answer_self_then_throw', (conn, msg, id) => {
    engine.sendError(conn, 'not_allowed', 'the handler answered', id);
    throw new Error('after answering');
  });
  engine.on('message:marker', () => {});
  const client = await connect(engine, 'alice');
  t.after(() => client.close());
  let n = 0;
  // The next frame answers the marker: nothing else came in between.
  client.onlyMarkerNext = async () => {
    n += 1;
    client.send({ type: 'marker', id: `m${n}` });
    assert.deepEqual(await client.next(), { type: 'ack', id: `m${n}` });
  };
  return { engine, client, reported };
}

test('a handler that returns or resolves: exactly one ack', async (t) => {
  const { client } = await setup(t);
  client.send({ type: 'ok', id: 1 });
  assert.deepEqual(await client.next(), { type: 'ack', id: 1 });
  await client.onlyMarkerNext();
  client.send({ type: 'ok_sync', id: 'two' });
  assert.deepEqual(await client.next(), { type: 'ack', id: 'two' });
  await client.onlyMarkerNext();
});

test('a handler that throws or rejects: exactly one error with the id, no stack', async (t) => {
  const { client, reported } = await setup(t);
  for (const [type, id] of [['boom', 'b'], ['boom_sync', 3]]) {
    client.send({ type, id });
    const err = await client.next();
    assert.deepEqual([err.type, err.code, err.id], ['error', 'internal_error', id]);
    assert.doesNotMatch(err.message, /secret|at /);
    await client.onlyMarkerNext();
  }
  assert.equal(reported.length, 2);
  client.send({ type: 'refuse', id: 4 });
  assert.deepEqual(await client.next(), { type: 'error', code: 'invalid_field', message: 'no such thing', id: 4 });
  await client.onlyMarkerNext();
  assert.equal(reported.length, 2); // a MessageError is an answer, not a failure
});

test('a handler that answered the id with sendError: only that error', async (t) => {
  const { client } = await setup(t);
  for (const type of ['answer_self', 'answer_self_then_throw']) {
    client.send({ type, id: 's' });
    assert.deepEqual(await client.next(), { type: 'error', code: 'not_allowed', message: 'the handler answered', id: 's' });
    await client.onlyMarkerNext();
  }
});

test('no id: nothing; unknown type with an id: one unknown_type', async (t) => {
  const { client } = await setup(t);
  client.send({ type: 'ok' });
  client.send({ type: 'ok_sync' });
  await sleep(100);
  await client.onlyMarkerNext();
  client.send({ type: 'nobody_handles_this', id: 9 });
  const err = await client.next();
  assert.deepEqual([err.type, err.code, err.id], ['error', 'unknown_type', 9]);
  await client.onlyMarkerNext();
});

test('the request id reaches the listener; several listeners still answer once', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const seen = [];
  engine.on('message:t', (conn, msg, id) => { seen.push([id, msg.id]); });
  engine.on('message', async (conn, msg, id) => { await sleep(2); seen.push(['any', id]); });
  const client = await connect(engine, 'alice');
  t.after(() => client.close());
  client.send({ type: 't', id: 'x1' });
  assert.deepEqual(await client.next(), { type: 'ack', id: 'x1' });
  client.ws.send('{"type":"t","id":"\\u00e9"}'); // echoed as the client wrote it
  const raw = await new Promise((resolve) => client.ws.once('message', (data) => resolve(data.toString())));
  assert.equal(raw, '{"type":"ack","id":"\\u00e9"}');
  client.send({ type: 't' });
  client.send({ type: 't', id: 7 });
  assert.deepEqual(await client.next((m) => m.id === 7), { type: 'ack', id: 7 });
  await until(() => seen.length === 8);
  assert.deepEqual(seen.filter(([k]) => k !== 'any'), [['x1', 'x1'], ['é', 'é'], [undefined, undefined], [7, 7]]);
  assert.deepEqual(seen.filter(([k]) => k === 'any').map(([, id]) => id), ['x1', 'é', undefined, 7]);
});
