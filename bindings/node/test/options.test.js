'use strict';
// The Engine's options and stats are derived from the C library's tables
// (rtc_config_option, rtc_stats_field): every row is an option under the
// documented rule, with rtc_config_init's default and the row's range.
const { test } = require('node:test');
const fs = require('node:fs');
const path = require('node:path');
const { assert, rtcore, pkgDir, startEngine } = require('./helpers');

const native = require(path.join(pkgDir, 'lib', 'native'));
const check = require(path.join(pkgDir, 'lib', 'validate'));
const ROWS = native.configOptions();
// The rule of lib/options.js, restated independently.
const ruleName = (field) => field.replace(/(_ms|_s)$/, '').replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

test('every row of the C table is an option under the derived name', () => {
  assert.ok(ROWS.length >= 30);
  assert.deepEqual(Object.keys(rtcore.optionTable), ROWS.map((r) => ruleName(r.name)));
  for (const row of ROWS) {
    const opt = rtcore.optionTable[ruleName(row.name)];
    assert.equal(opt.field, row.name);
    assert.ok(check.OPTIONS.includes(opt.name), opt.name);
  }
  for (const name of ['historySize', 'historyTtl', 'presenceLimit', 'joinTimeout', 'logFormat', 'jwtLeeway']) {
    assert.ok(rtcore.optionTable[name], name);
  }
});

test('defaults are rtc_config_init\'s, in ms', () => {
  const d = rtcore.defaults;
  for (const row of ROWS) {
    const name = ruleName(row.name);
    if (row.type === 'enum') assert.equal(d[name], row.help.split(':')[0].split('|')[row.default], name);
    else if (row.type === 'uint') assert.equal(d[name], row.default * (row.name.endsWith('_s') ? 1000 : 1), name);
    else assert.equal(d[name], row.default, name);
  }
  assert.equal(d.historySize, 0);
  assert.equal(d.historyTtl, 300000);
  assert.equal(d.jwtLeeway, 30000);
  assert.equal(d.jwtLeewaySeconds, 30);
  assert.equal(d.joinTimeout, 3000);
  assert.equal(d.joinTimeoutMs, 3000);
  assert.equal(d.logFormat, 'text');
});

test('out-of-range values are refused with RTC_EINVAL naming the option', () => {
  for (const opt of Object.values(rtcore.optionTable)) {
    if (opt.kind !== 'int') continue;
    const tries = [opt.jsMax + 1, 1.5];
    if (opt.jsMin > 0) tries.push(opt.jsMin - 1);
    for (const value of tries) {
      if (value > Number.MAX_SAFE_INTEGER) continue;
      assert.throws(() => new rtcore.Engine({ [opt.name]: value }), (err) => {
        assert.equal(err.code, 'RTC_EINVAL');
        assert.match(err.message, new RegExp(`option ${opt.name} must be an integer`));
        return true;
      }, `${opt.name}=${value}`);
    }
    new rtcore.Engine({ [opt.name]: opt.default });
  }
  assert.throws(() => new rtcore.Engine({ historySize: 100001 }), /historySize must be an integer 0..100000/);
  assert.throws(() => new rtcore.Engine({ historyTtl: 0 }), /historyTtl/);
  assert.throws(() => new rtcore.Engine({ logFormat: 'xml' }), /logFormat must be one of text, json/);
  assert.throws(() => new rtcore.Engine({ historyTTL: 5 }), /unknown option "historyTTL"/);
});

test('units are converted into the fields; aliases keep today\'s names', () => {
  const c = check.nativeConfig(check.engineOptions({
    pingInterval: 1500, historySize: 50, historyTtl: 1500, jwtLeeway: 2000, maxMessageSize: 4096, exposeStats: true,
    logFormat: 'json', authMode: 'none', presenceLimit: 7, joinTimeout: 2500,
  }));
  assert.deepEqual(c, {
    ping_interval_ms: 1500, history_size: 50, history_ttl_s: 2, jwt_leeway_s: 2, max_message_size: 4096, expose_stats: 1,
    log_format: 1, auth_mode: 0, presence_limit: 7, join_timeout_ms: 2500,
  });
  assert.deepEqual(check.nativeConfig(check.engineOptions({ jwtLeewaySeconds: 7, joinTimeoutMs: 1234, auth: 'none' })),
    { jwt_leeway_s: 7, join_timeout_ms: 1234, auth_mode: 0 });
  assert.throws(() => new rtcore.Engine({ jwtLeewaySeconds: 1.5 }), /jwtLeewaySeconds must be an integer 0..86400/);
  assert.throws(() => new rtcore.Engine({ jwtLeeway: 1, jwtLeewaySeconds: 1 }), /jwtLeewaySeconds and jwtLeeway exclude/);
  assert.throws(() => new rtcore.Engine({ joinTimeoutMs: 1, joinTimeout: 1 }), /exclude each other/);
});

test('history settings reach the engine', async () => {
  // The native layer writes every row generically into rtc_config; the
  // engine's own check (history_size <= its maximum) refuses what only
  // reaches it through that field.
  const n = new native.Native(() => {});
  n.unref();
  assert.equal(n.listen({ history_size: 100001 }, false, false), -1); // RTC_EINVAL from rtc_engine_create
  const engine = await startEngine({ historySize: 50, historyTtl: 60000 });
  await engine.close();
});

test('stats are the C counters table, camelCased', async () => {
  const engine = await startEngine();
  try {
    const s = engine.stats();
    assert.deepEqual(Object.keys(s), rtcore.statsFields.map((f) => f.key));
    assert.deepEqual(rtcore.statsFields.map((f) => f.name), native.statsFields().map((f) => f.name));
    for (const key of ['connections', 'messagesIn', 'backplaneFenced', 'queuedBytes', 'internalErrors']) {
      assert.equal(typeof s[key], 'number', key);
    }
  } finally {
    await engine.close();
  }
});

test('index.d.ts names every option (types are compile-time), the README points at optionTable', () => {
  const dts = fs.readFileSync(path.join(pkgDir, 'index.d.ts'), 'utf8');
  const options = dts.slice(dts.indexOf('export interface EngineOptions'), dts.indexOf('export type AuthMode'));
  for (const name of check.OPTIONS) assert.match(options, new RegExp(`\\b${name}\\?:`), name);
  const readme = fs.readFileSync(path.join(pkgDir, 'README.md'), 'utf8');
  assert.match(readme, /require\('rtcore'\)\.optionTable/);
});

test('index.d.ts\'s table-derived options are what scripts/gen-types.js writes from optionTable', () => {
  const { execFileSync } = require('node:child_process');
  const script = path.join(__dirname, '..', 'scripts', 'gen-types.js');
  try {
    execFileSync(process.execPath, [script, '--check', '--package', pkgDir], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    assert.fail(`gen-types --check failed:\n${err.stdout}${err.stderr}`);
  }
});

// An unmasked client frame tells the two transports apart (the own path
// closes it with 1002, libwebsockets 4.1 takes it): lwsTransport reaches
// the engine.
function unmaskedJoin(port) {
  const net = require('node:net');
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer: ${buf.toString('latin1')}`)); }, 5000);
    const done = (v) => { clearTimeout(timer); sock.destroy(); resolve(v); };
    sock.on('error', reject);
    sock.on('connect', () => {
      sock.write('GET /ws/raw HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        assert.match(buf.subarray(0, end).toString('latin1'), /^HTTP\/1\.1 101/);
        buf = buf.subarray(end + 4);
        upgraded = true;
        const payload = Buffer.from(JSON.stringify({ type: 'join_room', room: 'r', id: 'u1' }));
        sock.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
      }
      if (buf.length < 2 || buf.length < 2 + (buf[1] & 0x7f)) return;
      const opcode = buf[0] & 0x0f;
      const body = buf.subarray(2, 2 + (buf[1] & 0x7f));
      done(opcode === 0x8 ? { close: body.readUInt16BE(0) } : JSON.parse(body.toString()));
    });
  });
}

test('lwsTransport: every connection goes through libwebsockets (default: the own path)', async () => {
  assert.equal(rtcore.defaults.lwsTransport, false);
  for (const [options, expect] of [[{}, { close: 1002 }], [{ lwsTransport: true }, { type: 'ack', id: 'u1' }]]) {
    const engine = await startEngine(options);
    try {
      const answer = await unmaskedJoin(engine.port);
      for (const [k, v] of Object.entries(expect)) assert.equal(answer[k], v, JSON.stringify({ options, answer }));
    } finally {
      await engine.close();
    }
  }
});
