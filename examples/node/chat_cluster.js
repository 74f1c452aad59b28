#!/usr/bin/env node
// Multi-node chat: run one per node against the same Redis; rooms, direct
// messages and presence then span every node (docs/protocol.md section 7).
//
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3001 NODE_ID=a node chat_cluster.js
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3002 NODE_ID=b node chat_cluster.js
//
// An engine built without the Redis backplane refuses the URL with
// RTC_ENOTSUP; this exits 2 with that explanation instead of running as a
// lone node that silently drops cross-node traffic.
'use strict';
const { Engine } = require('rtcore');

async function main() {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    console.error('chat_cluster: set REDIS_URL (e.g. redis://127.0.0.1:6379); for one node use chat_server.js');
    process.exit(2);
  }
  const engine = new Engine({
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST || '127.0.0.1',
    redisUrl,
    nodeId: process.env.NODE_ID || undefined,
  });
  engine.on('presence', (ev) => console.log(JSON.stringify({ event: 'presence', ...ev })));
  engine.on('error', (err) => console.error('chat_cluster:', err));
  try {
    await engine.listen();
  } catch (err) {
    if (err.code === 'RTC_ENOTSUP') {
      console.error(`chat_cluster: this rtcore engine has no Redis backplane yet, so REDIS_URL=${redisUrl} cannot be used (RTC_ENOTSUP). Run chat_server.js without REDIS_URL for a single node.`);
      process.exit(2);
    }
    console.error(`chat_cluster: cannot start: ${err.message} (${err.code})`);
    process.exit(1);
  }
  console.log(JSON.stringify({ event: 'listening', port: engine.port, nodeId: engine.nodeId }));
  const stop = () => engine.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main();
