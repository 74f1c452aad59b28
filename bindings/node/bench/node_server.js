#!/usr/bin/env node
// The Node host side of bench/fanout.js: an Engine with the listeners a
// typical app has (open, disconnect, presence; no message listener, so
// room traffic never touches JS). Prints {"port":N} when listening.
'use strict';
const { Engine } = require(process.env.RTCORE_PACKAGE || '..');

(async () => {
  // No rate limit, as for the server binary in fanout.js (one sender floods).
  const engine = new Engine({ port: 0, host: '127.0.0.1', logLevel: 0, rateLimit: 0, keepAlive: true });
  let open = 0;
  engine.on('open', () => { open++; });
  engine.on('disconnect', () => { open--; });
  engine.on('presence', () => {});
  await engine.listen();
  console.log(JSON.stringify({ port: engine.port }));
  process.once('SIGTERM', () => engine.close());
})();
