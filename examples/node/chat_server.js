#!/usr/bin/env node
// The reference Node chat server (ws + ioredis connection manager), on
// rtcore: clients connect to ws://HOST:PORT/ws/{userId} and send join_room,
// leave_room, room_message and direct_message exactly as before. Those
// built-in types run entirely in the engine thread; this file only starts
// it and logs presence.
//
//   PORT=3000 node chat_server.js            one node
//   REDIS_URL=redis://127.0.0.1:6379 node chat_server.js   see chat_cluster.js
//
// Prints one JSON line {"event":"listening","port":N} once ready (PORT=0
// picks a free port). SIGINT/SIGTERM close every connection with 1001.
'use strict';
const { Engine } = require('rtcore');

async function main() {
  const engine = new Engine({
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST || '127.0.0.1',
    redisUrl: process.env.REDIS_URL || undefined,
    nodeId: process.env.NODE_ID || undefined,
  });
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
