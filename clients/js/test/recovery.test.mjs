// The client's stream bookkeeping (docs/protocol.md section 8) against a
// scripted server: in order, exactly once, across reconnects, duplicates at
// the seam, gaps, epoch changes and `gap` errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../src/index.js';
import { WebSocket, until, once, sleep } from './support.mjs';
import { startFake } from './fake_server.mjs';

const fast = { WebSocket, minDelay: 30, maxDelay: 100 };

async function setup(t) {
  const fake = await startFake();
  t.after(() => fake.close());
  const c = connect(fake.url, { userId: 'bob', ...fast });
  t.after(() => c.close());
  const got = [];
  const room = c.room('r');
  room.on('message', (m) => got.push(m.offset));
  await room.join();
  return { fake, c, room, got };
}

test('away while 100 messages are sent: after reconnect exactly those 100, in order, once', async (t) => {
  const { fake, c, room, got } = await setup(t);
  fake.publish('r', 'alice', 'before');
  await until(() => got.length === 1);
  // Away: the socket drops and the server refuses to hear from us for a while.
  const stop = fake.wss.listeners('connection')[0];
  fake.wss.removeAllListeners('connection');
  fake.wss.on('connection', (ws) => ws.terminate());
  fake.dropAll();
  await once(c, 'disconnected');
  for (let i = 0; i < 100; i++) fake.publish('r', 'alice', i);
  fake.wss.removeAllListeners('connection');
  fake.wss.on('connection', stop);
  const recovered = once(room, 'recovered');
  await until(() => got.length === 101, { what: '100 missed messages' });
  assert.equal((await recovered).recovered, true);
  assert.deepEqual(got, Array.from({ length: 101 }, (_, i) => i + 1));
  const join = fake.log.filter((f) => f.type === 'join_room').pop();
  assert.deepEqual(join.since, { epoch: 'e1', offset: 1 });
  fake.publish('r', 'alice', 'live');
  await until(() => got.length === 102);
  await sleep(50);
  assert.equal(got.length, 102);
});

test('frames repeated at the seam of a rejoin are dropped; live frames racing the replay too', async (t) => {
  const { fake, c, room, got } = await setup(t);
  for (let i = 0; i < 3; i++) fake.publish('r', 'a', i);
  await until(() => got.length === 3);
  fake.onJoin = (ws, f, s) => {
    // A live frame from before the join races ahead of the replay, and the
    // replay repeats one the client already had.
    for (let i = 0; i < 3; i++) s.push({ type: 'message', room: 'r', from: 'a', content: i, offset: s.length + 1 });
    ws.send(JSON.stringify(s[5])); // offset 6 first: too early, dropped
    for (const m of s.slice(f.since.offset - 1)) ws.send(JSON.stringify(m)); // 3 (dup), 4, 5, 6
    ws.send(JSON.stringify({ type: 'ack', id: f.id, recovered: true, epoch: 'e1', offset: s.length }));
    return true;
  };
  fake.dropAll();
  await until(() => got.length === 6, { what: 'replay' });
  await sleep(50);
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
  assert.equal(c.state, 'connected');
});

test('a gap in live offsets makes the client rejoin with since and fill it', async (t) => {
  const { fake, room, got } = await setup(t);
  fake.publish('r', 'a', 1);
  await until(() => got.length === 1);
  // The server "loses" offset 2 on the live path, then sends 3.
  const s = fake.stream('r');
  s.push({ type: 'message', room: 'r', from: 'a', content: 2, offset: 2 });
  fake.publish('r', 'a', 3);
  await until(() => got.length === 3, { what: 'the gap filled' });
  assert.deepEqual(got, [1, 2, 3]);
  assert.deepEqual(fake.log.filter((f) => f.type === 'join_room').pop().since, { epoch: 'e1', offset: 1 });
  assert.equal(room.state, 'joined');
});

test('an error "gap" for the room triggers the same rejoin', async (t) => {
  const { fake, got } = await setup(t);
  const s = fake.stream('r');
  s.push({ type: 'message', room: 'r', from: 'a', content: 1, offset: 1 });
  for (const ws of fake.sockets) ws.send(JSON.stringify({ type: 'error', code: 'gap', message: 'lost', room: 'r' }));
  await until(() => got.length === 1, { what: 'recovered message' });
  assert.deepEqual(got, [1]);
});

test('recovered:false (a new epoch) is surfaced as reset; tracking restarts at the new position', async (t) => {
  const { fake, c, room, got } = await setup(t);
  fake.publish('r', 'a', 1);
  await until(() => got.length === 1);
  const resets = [];
  room.on('reset', (i) => resets.push(i));
  const clientEvents = [];
  c.on('recovered', (i) => clientEvents.push(i));
  fake.epoch = 'e2';
  fake.rooms.set('r', []);
  fake.dropAll();
  await until(() => resets.length === 1, { what: 'reset' });
  assert.deepEqual(resets[0], { room: 'r', recovered: false, epoch: 'e2', offset: 0 });
  assert.equal(clientEvents[0].recovered, false);
  assert.deepEqual(room.position, { epoch: 'e2', offset: 0 });
  fake.publish('r', 'a', 'new epoch');
  await until(() => got.length === 2);
  assert.deepEqual(got, [1, 1]);
  const h = await room.history({ limit: 10 });
  assert.equal(h.epoch, 'e2');
  assert.equal(h.messages.length, 1);
});

test('sends queued during a rejoin go out after the replay', async (t) => {
  const { fake, c, room, got } = await setup(t);
  fake.dropAll();
  await once(c, 'disconnected');
  const p = room.send('queued');
  await p;
  await until(() => got.length === 1);
  const types = fake.log.map((f) => f.type);
  assert.ok(types.lastIndexOf('join_room') < types.lastIndexOf('room_message'), types.join());
});
