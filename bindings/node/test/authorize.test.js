'use strict';
// onAuthorize: the host allows or refuses join_room, room_message and
// direct_message per connection. The engine defers each decision to JS and
// holds the connection's later messages meanwhile, so order is kept; a
// refusal is error forbidden with the request's id and has no effect.
const { test } = require('node:test');
const { assert, rtcore, startEngine, connect, sleep } = require('./helpers');

const forbidden = (id) => ({ type: 'error', code: 'forbidden', message: 'not allowed', id });

// Fails if the client receives anything within ms.
async function silent(client, ms = 200) {
  await sleep(ms);
  assert.deepEqual(client.messages, []);
}

// alice may do anything but join "secret"; mallory may join rooms but not
// post to them nor send direct messages.
function policy(calls, async) {
  const decide = (conn, action, target) => {
    assert.ok(conn instanceof rtcore.Connection && /^[1-9][0-9]*$/.test(conn.id));
    calls.push([conn.userId, action, target]);
    if (action === 'join_room') return target !== 'secret';
    return conn.userId !== 'mallory';
  };
  return async ? async (...args) => { await sleep(5); return decide(...args); } : decide;
}

for (const kind of ['sync', 'async']) {
  test(`${kind} hook: allowed actions take effect and the hook sees each`, async (t) => {
    const calls = [];
    const engine = await startEngine({}, (e) => e.onAuthorize(policy(calls, kind === 'async')));
    t.after(() => engine.close());
    const alice = await connect(engine, 'alice');
    const bob = await connect(engine, 'bob');
    alice.send({ type: 'join_room', room: 'r', id: 1 });
    assert.deepEqual(await alice.next(), { type: 'ack', id: 1 });
    bob.send({ type: 'join_room', room: 'r', id: 2 });
    assert.deepEqual(await bob.next(), { type: 'ack', id: 2 });

    alice.send({ type: 'room_message', room: 'r', content: 'hi', id: 3 });
    for (const c of [alice, bob]) {
      const m = await c.next((x) => x.type === 'message');
      assert.deepEqual([m.room, m.from, m.content], ['r', 'alice', 'hi']);
    }
    assert.deepEqual(await alice.next(), { type: 'ack', id: 3 });

    alice.send({ type: 'direct_message', to: 'bob', content: 7, id: 'd' });
    const dm = await bob.next();
    assert.deepEqual([dm.type, dm.from, dm.content], ['direct_message', 'alice', 7]);
    assert.deepEqual(await alice.next(), { type: 'ack', id: 'd' });

    alice.send({ type: 'leave_room', room: 'r', id: 4 }); // never asked about
    assert.deepEqual(await alice.next(), { type: 'ack', id: 4 });
    assert.deepEqual(calls, [
      ['alice', 'join_room', 'r'],
      ['bob', 'join_room', 'r'],
      ['alice', 'room_message', 'r'],
      ['alice', 'direct_message', 'bob'],
    ]);
    await alice.close();
    await bob.close();
  });

  test(`${kind} hook: refused actions get forbidden with their id and have no effect`, async (t) => {
    const engine = await startEngine({}, (e) => e.onAuthorize(policy([], kind === 'async')));
    t.after(() => engine.close());
    const alice = await connect(engine, 'alice');
    const bob = await connect(engine, 'bob');
    const mallory = await connect(engine, 'mallory');

    // join_room refused: alice is not a member of "secret".
    alice.send({ type: 'join_room', room: 'secret', id: 1 });
    assert.deepEqual(await alice.next(), forbidden(1));
    alice.send({ type: 'room_message', room: 'secret', content: 'x', id: 2 });
    const err = await alice.next();
    assert.deepEqual([err.code, err.id], ['not_in_room', 2]);
    assert.equal(engine.stats().rooms, 0);

    // room_message refused: reaches nobody, not even the sender.
    for (const [c, id] of [[bob, 3], [mallory, 4]]) {
      c.send({ type: 'join_room', room: 'r', id });
      assert.deepEqual(await c.next(), { type: 'ack', id });
    }
    mallory.send({ type: 'room_message', room: 'r', content: 'spam', id: 'm1' });
    assert.deepEqual(await mallory.next(), forbidden('m1'));

    // direct_message refused: the recipient gets nothing.
    mallory.send({ type: 'direct_message', to: 'bob', content: 'psst', id: 5 });
    assert.deepEqual(await mallory.next(), forbidden(5));
    // Without an id the refusal is still answered, without one.
    mallory.send({ type: 'direct_message', to: 'alice', content: 'psst' });
    const noId = await mallory.next();
    assert.deepEqual([noId.type, noId.code, 'id' in noId], ['error', 'forbidden', false]);

    await silent(bob, 300);
    await silent(alice, 0);
    assert.equal(engine.stats().forbidden, 4);
    await Promise.all([alice.close(), bob.close(), mallory.close()]);
  });
}

test('a slow async hook keeps the connection\'s message order', async (t) => {
  const calls = [];
  const engine = await startEngine({}, (e) => e.onAuthorize(async (conn, action, target) => {
    calls.push([conn.userId, action, target]);
    if (action === 'join_room') await sleep(100);
    return true;
  }));
  t.after(() => engine.close());
  const alice = await connect(engine, 'alice');
  // Sent back to back: the room_message must wait for the join.
  alice.send({ type: 'join_room', room: 'A', id: 1 });
  alice.send({ type: 'room_message', room: 'A', content: 'first', id: 2 });
  alice.send({ type: 'leave_room', room: 'A', id: 3 });
  assert.deepEqual(await alice.next(), { type: 'ack', id: 1 });
  const m = await alice.next();
  assert.deepEqual([m.type, m.room, m.content], ['message', 'A', 'first']);
  assert.deepEqual(await alice.next(), { type: 'ack', id: 2 });
  assert.deepEqual(await alice.next(), { type: 'ack', id: 3 });
  assert.deepEqual(calls, [['alice', 'join_room', 'A'], ['alice', 'room_message', 'A']]);
  await alice.close();
});

test('connections wait only for their own decisions', async (t) => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const engine = await startEngine({}, (e) => e.onAuthorize(async (conn) => {
    if (conn.userId === 'slow') await gate;
    return true;
  }));
  t.after(() => engine.close());
  const slow = await connect(engine, 'slow');
  const fast = await connect(engine, 'fast');
  slow.send({ type: 'join_room', room: 'r', id: 1 });
  fast.send({ type: 'join_room', room: 'r', id: 2 });
  assert.deepEqual(await fast.next(), { type: 'ack', id: 2 });
  await silent(slow, 100);
  release();
  assert.deepEqual(await slow.next(), { type: 'ack', id: 1 });
  await Promise.all([slow.close(), fast.close()]);
});

for (const kind of ['throwing', 'rejecting']) {
  test(`a ${kind} hook refuses and is reported`, async (t) => {
    const reported = [];
    const engine = await startEngine({}, (e) => {
      e.on('error', (err) => reported.push(err));
      e.onAuthorize(kind === 'throwing'
        ? () => { throw new Error('policy store down'); }
        : async () => { await sleep(1); throw new Error('policy store down'); });
    });
    t.after(() => engine.close());
    const alice = await connect(engine, 'alice');
    alice.send({ type: 'join_room', room: 'r', id: 1 });
    assert.deepEqual(await alice.next(), forbidden(1));
    assert.equal(engine.stats().rooms, 0);
    assert.equal(engine.stats().forbidden, 1);
    assert.equal(reported.length, 1);
    assert.equal(reported[0].message, 'policy store down');
    await alice.close();
  });
}

test('anything but true or false refuses and is reported', async (t) => {
  const reported = [];
  const answers = { yes: true, no: false, none: undefined, one: 1, text: 'yes' };
  const engine = await startEngine({}, (e) => {
    e.on('error', (err) => reported.push(err));
    e.onAuthorize((conn, action, target) => answers[target]);
  });
  t.after(() => engine.close());
  const alice = await connect(engine, 'alice');
  let i = 0;
  for (const room of Object.keys(answers)) {
    alice.send({ type: 'join_room', room, id: i });
    assert.deepEqual(await alice.next(), room === 'yes' ? { type: 'ack', id: i } : forbidden(i));
    i += 1;
  }
  assert.equal(engine.stats().forbidden, 4);
  // undefined, 1 and 'yes'; a plain false is a decision, not an error
  assert.equal(reported.length, 3);
  assert.ok(reported.every((err) => err instanceof TypeError && /true or false/.test(err.message)));
  await alice.close();
});

test('without a hook nothing is asked; onAuthorize must come before listen()', async (t) => {
  const engine = await startEngine();
  t.after(() => engine.close());
  const alice = await connect(engine, 'alice');
  alice.send({ type: 'join_room', room: 'secret', id: 1 });
  assert.deepEqual(await alice.next(), { type: 'ack', id: 1 });
  assert.throws(() => engine.onAuthorize(() => true), { code: 'RTC_ESTATE' });
  assert.throws(() => new rtcore.Engine().onAuthorize('yes'), { code: 'RTC_EINVAL' });
  assert.equal(engine.stats().forbidden, 0);
  await alice.close();
});

test('the hook can use the connection; host-defined types are not asked about', async (t) => {
  const calls = [];
  const engine = await startEngine({}, (e) => {
    e.onAuthorize((conn, action, target) => {
      calls.push([conn.userId, action, target]);
      if (target !== 'vip') return true;
      conn.send({ type: 'notice', text: 'members only' });
      return false;
    });
    e.on('message:ping', () => {});
  });
  t.after(() => engine.close());
  const alice = await connect(engine, 'alice');
  alice.send({ type: 'join_room', room: 'vip', id: 1 });
  assert.deepEqual(await alice.next(), { type: 'notice', text: 'members only' });
  assert.deepEqual(await alice.next(), forbidden(1));
  alice.send({ type: 'ping', id: 2 });
  await sleep(100);
  assert.deepEqual(calls, [['alice', 'join_room', 'vip']]);
  await alice.close();
});
