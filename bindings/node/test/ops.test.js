'use strict';
// Operations: the 'log' event (the engine's log lines, never a token or a
// secret) and the internal listener (internalListen / internalPort).
const http = require('node:http');
const { test } = require('node:test');
const { assert, startEngine, connect, until, WebSocket } = require('./helpers');

function get(port, path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

test("'log' events carry level, event, message and fields, and no secret", async () => {
  const secret = 'node-ops-secret-7c1';
  const lines = [];
  const engine = await startEngine({ auth: 'jwt-hs256', jwtSecret: secret, logLevel: 3 }, (e) => {
    e.on('log', (line) => lines.push(line));
  });
  const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.Zm9yZ2Vk';
  const ws = new WebSocket(`ws://127.0.0.1:${engine.port}/ws/alice?token=${token}`);
  const status = await new Promise((resolve) => {
    ws.on('unexpected-response', (req, res) => resolve(res.statusCode));
    ws.on('error', () => {});
  });
  assert.equal(status, 401);
  await until(() => lines.some((l) => l.event === 'upgrade_refused'));
  await engine.close();
  const refused = lines.find((l) => l.event === 'upgrade_refused');
  assert.equal(refused.level, 'info');
  assert.equal(refused.fields.status, 401);
  assert.match(refused.message, /^upgrade refused \(401\)/);
  assert.ok(lines.some((l) => l.event === 'lws'), 'libwebsockets lines come through too');
  for (const l of lines) {
    assert.ok(['error', 'warn', 'info', 'debug'].includes(l.level), JSON.stringify(l));
    assert.equal(typeof l.fields, 'object');
    const text = JSON.stringify(l);
    assert.ok(!text.includes(secret) && !text.includes(token) && !text.includes('Zm9yZ2Vk'), text);
  }
});

test('internalListen serves /readyz and /stats on internalPort; the public port 404s them', async () => {
  const engine = await startEngine({ internalListen: '127.0.0.1:0' });
  const internal = engine.internalPort;
  assert.ok(internal > 0 && internal !== engine.port);
  assert.deepEqual(await get(internal, '/readyz'), { status: 200, body: 'ready\n' });
  assert.equal((await get(internal, '/stats')).status, 200);
  assert.equal((await get(engine.port, '/readyz')).status, 404);
  assert.equal((await get(engine.port, '/healthz')).status, 200);
  const c = await connect(engine, 'alice');
  c.close();
  await engine.close();
  assert.equal(engine.internalPort, 0);
});

test('without internalListen, internalPort is 0 and /readyz is on the public port', async () => {
  const engine = await startEngine();
  assert.equal(engine.internalPort, 0);
  assert.deepEqual(await get(engine.port, '/readyz'), { status: 200, body: 'ready\n' });
  await engine.close();
});

test('a malformed internalListen is refused at listen()', async () => {
  const { Engine } = require('./helpers').rtcore;
  const e = new Engine({ port: 0, internalListen: 'nonsense' });
  await assert.rejects(e.listen(), { code: 'RTC_EINVAL' });
});
