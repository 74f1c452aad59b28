#!/usr/bin/env node
// The reference Node chat server (ws + ioredis connection manager), on
// rtcore: clients connect to ws://HOST:PORT/ws/{userId} and send join_room,
// leave_room, room_message and direct_message exactly as before. Those
// built-in types run entirely in the engine thread. This file adds what
// every example chat server (examples/README.md: C, C++, Python, Node) adds
// in the same way, so one parity test drives all four:
//   - an auth hook refusing the user "mallory" (close code 4403);
//   - a server-side push: each new connection gets a direct_message from
//     the server ("from": "") whose content is {"welcome": USER};
//   - one host-defined type: {"type":"whoami"} is answered with the frame
//     {"type":"whoami","user":USER}, then its ack;
//   - presence logged.
//
//   PORT=3000 node chat_server.js            one node
//   REDIS_URL=redis://127.0.0.1:6379 node chat_server.js   see chat_cluster.js
//
// Prints one JSON line {"event":"listening","port":N} once ready (PORT=0
// picks a free port). SIGINT/SIGTERM close every connection with 1001.
'use strict';
const { Engine, Reject } = require('rtcore');

async function main() {
  const engine = new Engine({
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST || '127.0.0.1',
    redisUrl: process.env.REDIS_URL || undefined,
    nodeId: process.env.NODE_ID || undefined,
  });
  engine.onConnect((req) => {
    if (req.params.userId === 'mallory') throw new Reject(403);
    return true;
  });
  // The envelope call: a direct_message from the server ("from": "").
  engine.on('open', (conn) => conn.sendMessage({ welcome: conn.userId }));
  // The frame call: this object is the frame. Returning acks msg's id.
  engine.on('message:whoami', (conn) => conn.send({ type: 'whoami', user: conn.userId }));
  // The reference published {userId, status, timestamp}; rtcore hands the
  // same to the host (and, with Redis, publishes it once per cluster).
  engine.on('presence', (ev) => console.log(JSON.stringify({ event: 'presence', ...ev })));
  engine.on('error', (err) => console.error('chat_server:', err));

  try {
    await engine.listen();
  } catch (err) {
    console.error(`chat_server: cannot start: ${err.message} (${err.code})`);
    process.exitCode = 1;
    return;
  }
  console.log(JSON.stringify({ event: 'listening', port: engine.port, nodeId: engine.nodeId }));

  const stop = () => engine.close().then(() => console.log(JSON.stringify({ event: 'closed' })));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main();
