'use strict';
// engine.history(): the host's read of a room's stored messages (historySize on).
const { test } = require('node:test');
const { assert, startEngine, connect } = require('./helpers');

test('history returns the stored messages oldest first, with limit and before', async (t) => {
  const engine = await startEngine({ historySize: 10 });
  t.after(() => engine.close());
  const alice = await connect(engine, 'alice');
  alice.send({ type: 'join_room', room: 'r', id: 1 });
  const ack = await alice.next((m) => m.type === 'ack');
  assert.equal(typeof ack.epoch, 'string');
  assert.ok(ack.epoch.length > 0);
  assert.equal(ack.offset, 0);
  const sent = [];
  for (let i = 0; i < 3; i++) {
    alice.send({ type: 'room_message', room: 'r', content: `m${i}`, id: 10 + i });
    const frame = await alice.next((m) => m.type === 'message');
    assert.equal(frame.offset, i + 1);
    assert.equal((await alice.next((m) => m.type === 'ack' && m.id === 10 + i)).type, 'ack');
    sent.push(frame);
  }
  engine.broadcastMessage('r', { note: 'from the host' }, { from: 'srv' });
  const hostFrame = await alice.next((m) => m.type === 'message');
  assert.equal(hostFrame.offset, 4);
  assert.equal(hostFrame.from, 'srv');
  sent.push(hostFrame);
  engine.broadcast('r', { type: 'raw', n: 1 }); // a raw frame is no message: no offset
  assert.equal((await alice.next((m) => m.type === 'raw')).offset, undefined);

  const all = await engine.history('r');
  assert.equal(all.epoch, ack.epoch);
  assert.equal(all.offset, 4);
  assert.deepEqual(all.messages, sent);
  const [first] = all.messages;
  assert.deepEqual([first.type, first.room, first.from, first.content], ['message', 'r', 'alice', 'm0']);
  assert.match(first.timestamp, /Z$/);
  assert.deepEqual(all.messages[3].content, { note: 'from the host' });

  const newest = await engine.history('r', { limit: 2 });
  assert.deepEqual(newest.messages.map((m) => m.offset), [3, 4]);
  assert.equal(newest.offset, 4);
  const older = await engine.history('r', { limit: 2, before: 3 });
  assert.deepEqual(older.messages.map((m) => m.offset), [1, 2]);
  assert.deepEqual((await engine.history('r', { before: 1 })).messages, []);
  const empty = await engine.history('nothing-here');
  assert.equal(empty.offset, 0);
  assert.deepEqual(empty.messages, []);
  assert.ok(empty.epoch.length > 0);
  await alice.close();
});

test('history keeps at most historySize messages', async (t) => {
  const engine = await startEngine({ historySize: 3 });
  t.after(() => engine.close());
  const alice = await connect(engine, 'alice');
  alice.send({ type: 'join_room', room: 'r', id: 1 });
  await alice.next((m) => m.type === 'ack');
  for (let i = 0; i < 5; i++) {
    engine.broadcastMessage('r', i);
    assert.equal((await alice.next((m) => m.type === 'message')).offset, i + 1);
  }
  const kept = await engine.history('r', { limit: 1000 });
  assert.equal(kept.offset, 5);
  assert.deepEqual(kept.messages.map((m) => m.content), [2, 3, 4]);
  await alice.close();
});

test('history without historySize rejects with RTC_ENOTSUP', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const alice = await connect(engine, 'alice');
  alice.send({ type: 'join_room', room: 'r', id: 1 });
  assert.deepEqual(await alice.next(), { type: 'ack', id: 1 }); // no epoch, no offset
  await assert.rejects(engine.history('r'), (err) => {
    assert.equal(err.name, 'RtcoreError');
    assert.equal(err.code, 'RTC_ENOTSUP');
    assert.match(err.message, /historySize/);
    return true;
  });
  await alice.close();
});

test('history refuses bad arguments and an engine that is not listening', async () => {
  const engine = await startEngine({ historySize: 5 });
  const alice = await connect(engine, 'alice');
  const code = (c) => (err) => err.code === c;
  for (const limit of [0, -1, 1.5, 2 ** 32, '10', true]) {
    await assert.rejects(engine.history('r', { limit }), code('RTC_EINVAL'), `limit ${limit}`);
  }
  for (const before of [0, -5, 2.5, 2 ** 53 + 2, '3']) {
    await assert.rejects(engine.history('r', { before }), code('RTC_EINVAL'), `before ${before}`);
  }
  await assert.rejects(engine.history('r', 5), code('RTC_EINVAL'));
  await assert.rejects(engine.history(''), code('RTC_EINVAL'));
  await assert.rejects(engine.history(42), code('RTC_EINVAL'));
  await assert.rejects(engine.history('x'.repeat(1000)), code('RTC_EINVAL'));
  assert.deepEqual((await engine.history('r', { before: 2 ** 53 })).messages, []);
  await alice.close();
  await engine.close();
  await assert.rejects(engine.history('r'), code('RTC_ESTATE'));
});
