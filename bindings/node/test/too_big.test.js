'use strict';
// A send larger than maxSendQueueBytes throws RtcoreError 'RTC_ETOOBIG'
// before anything is queued: no recipient is closed as a slow consumer.
const { test } = require('node:test');
const { assert, rtcore, startEngine, connect, until } = require('./helpers');

test('a send bigger than the send queue limit throws RTC_ETOOBIG and closes nobody', async (t) => {
  const engine = await startEngine({ maxSendQueueBytes: 4096 });
  t.after(() => engine.close());
  const opened = [];
  engine.on('open', (conn) => opened.push(conn));
  const a = await connect(engine, 'alice');
  const b = await connect(engine, 'bob');
  await until(() => opened.length === 2, 5000, 'open events');
  const [ca, cb] = opened;
  engine.join(ca, 'r');
  engine.join(cb, 'r');
  const big = 'x'.repeat(5000);
  const isTooBig = (err) => err instanceof rtcore.RtcoreError && err.code === 'RTC_ETOOBIG';
  assert.throws(() => engine.broadcastMessage('r', big), isTooBig);
  assert.throws(() => engine.broadcast('r', { type: 't', x: big }), isTooBig);
  assert.throws(() => engine.sendMessageToUser('alice', big), isTooBig);
  assert.throws(() => engine.sendToConnection(cb, { type: 't', x: big }), isTooBig);
  assert.throws(() => cb.sendError('too_big', big), isTooBig);
  // Nobody was closed: both members get the next broadcast.
  engine.broadcast('r', { type: 'after', n: 1 });
  assert.deepEqual(await a.next(), { type: 'after', n: 1 });
  assert.deepEqual(await b.next(), { type: 'after', n: 1 });
  assert.equal(engine.stats().slowConsumerCloses, 0);
  await a.close();
  await b.close();
});
