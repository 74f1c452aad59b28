#!/usr/bin/env node
// Keep your Express app, let rtcore own the WebSockets: POST /notify/:userId
// pushes the JSON body to every connection of that user.
//
//   HTTP_PORT=3000 WS_PORT=8080 node express_notify.js
//   curl -X POST -H 'content-type: application/json' \
//        -d '{"text":"build finished"}' localhost:3000/notify/alice
//
// Prints {"event":"listening","httpPort":N,"wsPort":M} once ready.
'use strict';
const express = require('express');
const { Engine, RtcoreError } = require('rtcore');

function createApp(engine) {
  const app = express();
  app.use(express.json());

  app.post('/notify/:userId', (req, res) => {
    try {
      engine.sendToUser(req.params.userId, { type: 'notification', data: req.body ?? null });
    } catch (err) {
      if (err instanceof RtcoreError && err.code === 'RTC_EINVAL') return res.status(400).json({ error: err.message });
      throw err;
    }
    // Queued for every connection of the user (none is not an error).
    return res.status(202).json({ queued: true });
  });

  app.get('/stats', (req, res) => res.json(engine.stats()));
  return app;
}

async function main() {
  const engine = new Engine({ port: Number(process.env.WS_PORT ?? 8080), host: '127.0.0.1' });
  await engine.listen();
  const server = createApp(engine).listen(Number(process.env.HTTP_PORT ?? 3000), '127.0.0.1', () => {
    console.log(JSON.stringify({ event: 'listening', httpPort: server.address().port, wsPort: engine.port }));
  });
  const stop = () => {
    server.close();
    engine.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) main();
module.exports = { createApp };
