'use strict';
// presence, open and disconnect events.
const { test } = require('node:test');
const { assert, startEngine, connect, until, sleep } = require('./helpers');

test('presence: online at the first connection, offline after the last', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const events = [];
  engine.on('presence', (ev) => events.push(ev));
  const a1 = await connect(engine, 'alice');
  const a2 = await connect(engine, 'alice');
  await until(() => events.length === 1);
  await a1.close();
  await sleep(50);
  assert.equal(events.length, 1); // alice still has a2
  await a2.close();
  await until(() => events.length === 2);
  assert.deepEqual(events.map((e) => [e.userId, e.status]), [['alice', 'online'], ['alice', 'offline']]);
  for (const e of events) assert.match(e.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('open and disconnect carry the connection and the close code', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const log = [];
  engine.on('open', (c) => log.push(['open', c.userId, c.id]));
  engine.on('disconnect', (c, code) => log.push(['disconnect', c.userId, c.id, code]));
  const a = await connect(engine, 'alice');
  a.ws.close(4321);
  await until(() => log.length === 2);
  assert.equal(log[0][0], 'open');
  assert.deepEqual(log[1], ['disconnect', 'alice', log[0][2], 4321]);
});

test('with no listeners nothing is delivered to JS, and listeners can come later', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const a = await connect(engine, 'alice');
  // The client's open can come before the engine registered it (and ran the
  // presence hook, with no listener): wait for the registration, so the
  // 'online' that nobody listened to cannot arrive after the listener.
  await until(async () => (await engine.isOnline(['alice'])).alice === true);
  const events = [];
  engine.on('presence', (ev) => events.push(ev.status));
  await a.close();
  await until(() => events.length === 1);
  assert.deepEqual(events, ['offline']);
});

test('roomMembers and isOnline answer from the engine', async (t) => {
  const engine = await startEngine({ presenceLimit: 2 });
  t.after(() => engine.close());
  const a = await connect(engine, 'alice');
  const b = await connect(engine, 'bob');
  const c = await connect(engine, 'carol');
  for (const [i, ws] of [a, b].entries()) {
    ws.send({ type: 'join_room', room: 'r', id: i });
    assert.equal((await ws.next()).type, 'ack');
  }
  const m = await engine.roomMembers('r');
  assert.deepEqual([...m.users].sort(), ['alice', 'bob']);
  assert.equal(m.truncated, false);
  const one = await engine.roomMembers('r', { limit: 1 });
  assert.equal(one.users.length, 1);
  assert.equal(one.truncated, true);
  c.send({ type: 'join_room', room: 'r', id: 9 });
  await c.next();
  const capped = await engine.roomMembers('r'); // the presenceLimit option
  assert.equal(capped.users.length, 2);
  assert.equal(capped.truncated, true);
  assert.deepEqual(await engine.roomMembers('empty'), { users: [], truncated: false });
  assert.deepEqual(await engine.isOnline(['bob', 'zed', 'bob']), { bob: true, zed: false });
  await assert.rejects(engine.roomMembers(''), /RTC_EINVAL|room/);
  await assert.rejects(engine.isOnline([]), /1 to 1000/);
  await assert.rejects(engine.roomMembers('r', { limit: -1 }), /limit/);
  for (const ws of [a, b, c]) await ws.close();
});
