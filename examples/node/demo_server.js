#!/usr/bin/env node
// The demo chat page's host: serves examples/web/ and the rtcore-client ES
// module, tells the page which rtcore nodes to use, and signs short-lived
// dev tokens. It does not speak WebSocket itself: the page connects straight
// to rtcore-server nodes (scripts/start-demo.sh starts two, with Redis).
//
//   RTCORE_NODES=ws://127.0.0.1:8081,ws://127.0.0.1:8082 \
//   DEMO_JWT_SECRET_FILE=/path/secret PORT=8000 node demo_server.js
//
// GET /config           {"nodes":[...],"auth":true|false}
// GET /token?user=NAME  {"token":JWT} (HS256, sub NAME, 5 minutes), only
//                       with a secret; a dev endpoint: anyone may ask for
//                       any name, so never expose it beyond loopback.
// Prints {"event":"listening","port":N,"url":"http://..."} once ready.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const root = path.join(__dirname, '..', 'web');
const clientModule = path.join(__dirname, '..', '..', 'clients', 'js', 'src', 'index.js');
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

function sign(secret, claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${crypto.createHmac('sha256', secret).update(head).digest('base64url')}`;
}

function createServer({ nodes, secret, tokenSeconds = 300 }) {
  return http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const json = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return json(405, { error: 'GET only' });
    if (url.pathname === '/config') return json(200, { nodes, auth: !!secret });
    if (url.pathname === '/token') {
      if (!secret) return json(404, { error: 'no dev token endpoint: the nodes run without --auth' });
      const user = url.searchParams.get('user') || '';
      if (!user || user.length > 64 || /[\u0000-\u001f\u007f/]/.test(user)) return json(400, { error: 'bad user name' });
      const now = Math.floor(Date.now() / 1000);
      return json(200, { token: sign(secret, { sub: user, iat: now, exp: now + tokenSeconds }) });
    }
    let file;
    if (url.pathname === '/rtcore-client.js') file = clientModule;
    else if (url.pathname === '/') file = path.join(root, 'index.html');
    else if (/^\/[a-z0-9_-]+\.(js|css|html)$/.test(url.pathname)) file = path.join(root, url.pathname.slice(1));
    else return json(404, { error: 'not found' });
    fs.readFile(file, (err, body) => {
      if (err) return json(404, { error: 'not found' });
      res.writeHead(200, { 'content-type': types[path.extname(file)], 'cache-control': 'no-store' });
      res.end(body);
    });
  });
}

function main() {
  const nodes = (process.env.RTCORE_NODES || 'ws://127.0.0.1:8080').split(',').map((s) => s.trim()).filter(Boolean);
  let secret = process.env.DEMO_JWT_SECRET || null;
  if (process.env.DEMO_JWT_SECRET_FILE) secret = fs.readFileSync(process.env.DEMO_JWT_SECRET_FILE, 'utf8').replace(/\n$/, '');
  const host = process.env.HOST || '127.0.0.1';
  const server = createServer({ nodes, secret });
  server.listen(Number(process.env.PORT ?? 8000), host, () => {
    const { port } = server.address();
    console.log(JSON.stringify({ event: 'listening', port, url: `http://${host}:${port}/` }));
  });
  const stop = () => server.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) main();
module.exports = { createServer, sign };
