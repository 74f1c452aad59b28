'use strict';
// 1000 concurrent clients through the Node host.
const { test } = require('node:test');
const { assert, startEngine, Client, withTimeout, until } = require('./helpers');

const N = 1000;

test(`${N} concurrent clients: connect, join, fan-out, direct messages, close`, { timeout: 60000 }, async () => {
  const engine = await startEngine();
  let opened = 0;
  let offline = 0;
  engine.on('open', () => { opened++; });
  engine.on('presence', (ev) => { if (ev.status === 'offline') offline++; });
  engine.on('message:ping', (conn, msg) => conn.send({ type: 'pong', n: msg.n }));

  const clients = [];
  for (let i = 0; i < N; i += 100) {
    const batch = Array.from({ length: 100 }, (_, j) => new Client(`ws://127.0.0.1:${engine.port}/ws/u${i + j}`));
    await withTimeout(Promise.all(batch.map((c) => c.opened)), 20000, 'batch connect');
    clients.push(...batch);
  }
  await until(() => opened === N, 10000, 'open events');
  assert.equal(engine.stats().connections, N);

  clients.forEach((c, i) => c.send({ type: 'join_room', room: 'all', id: i }));
  await withTimeout(Promise.all(clients.map((c) => c.next((m) => m.type === 'ack'))), 20000, 'acks');

  // Fan-out from the host and from a client: every member gets both.
  engine.broadcast('all', { type: 'host-announce' });
  clients[0].send({ type: 'room_message', room: 'all', content: 'hello all' });
  await withTimeout(Promise.all(clients.map(async (c) => {
    await c.next((m) => m.type === 'host-announce', 20000);
    await c.next((m) => m.type === 'message' && m.content === 'hello all', 20000);
  })), 25000, 'fan-out');

  // A host handler answering every client.
  clients.forEach((c, i) => c.send({ type: 'ping', n: i }));
  await withTimeout(Promise.all(clients.map((c, i) => c.next((m) => m.type === 'pong' && m.n === i, 20000))), 25000, 'pongs');

  await Promise.all(clients.slice(0, N / 2).map((c) => c.close()));
  await until(() => offline === N / 2, 10000, 'offline events');
  await engine.close();
  for (const c of clients.slice(N / 2)) assert.equal((await c.closed).code, 1001);
});
