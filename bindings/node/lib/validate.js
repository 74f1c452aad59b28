'use strict';
// Argument checks done in JS, before native code sees anything, so a
// mistake fails at the call with a message naming the argument.
const { invalid } = require('./errors');

// docs/protocol.md section 1-2: 1..128 bytes of UTF-8, no control characters;
// user ids also no '/'.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkId(what, value, slashOk) {
  if (typeof value !== 'string') throw invalid(`${what} must be a string`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < 1 || bytes > 128) throw invalid(`${what} must be 1..128 bytes of UTF-8, got ${bytes}`);
  if (CONTROL.test(value)) throw invalid(`${what} must not contain control characters`);
  if (!slashOk && value.includes('/')) throw invalid(`${what} must not contain '/'`);
  if (value.isWellFormed && !value.isWellFormed()) throw invalid(`${what} is not valid UTF-16 text`);
  return value;
}

const userId = (v) => checkId('userId', v, false);
const room = (v) => checkId('room', v, true);

function closeCode(code) {
  if (code === undefined) return 1000;
  if (!Number.isInteger(code) || !(code === 1000 || (code >= 3000 && code <= 4999))) {
    throw invalid(`close code must be 1000 or 3000..4999, got ${code}`);
  }
  return code;
}

// Option name -> [kind, min, max]. Durations are milliseconds, except
// jwtLeewaySeconds. Defaults are the C library's (native.configDefaults()).
const U32 = 2 ** 32 - 1;
const OPTIONS = {
  port: ['int', 0, 65535],
  host: ['string'],
  redisUrl: ['string'],
  nodeId: ['string'],
  pingInterval: ['int', 1, U32],
  pingTimeout: ['int', 1, U32],
  maxMessageSize: ['int', 1, Number.MAX_SAFE_INTEGER],
  maxSendQueueBytes: ['int', 1, Number.MAX_SAFE_INTEGER],
  maxRoomsPerConnection: ['int', 0, U32],
  allowPostWithoutJoin: ['bool'],
  logLevel: ['int', 0, 3],
  shutdownTimeout: ['int', 1, U32],
  redisPrefix: ['string'],
  nodeTtl: ['int', 1, U32],
  redisConnectTimeout: ['int', 1, U32],
  redisBufferBytes: ['int', 1, Number.MAX_SAFE_INTEGER],
  joinTimeoutMs: ['int', 1, 86400000],
  presenceLimit: ['int', 1, 1000000],
  authMode: ['enum', ['none', 'jwt-hs256']],
  auth: ['enum', ['none', 'jwt-hs256']], // alias of authMode
  jwtSecret: ['secret'],
  jwtLeewaySeconds: ['int', 0, U32],
  jwtAudience: ['string'],
  jwtIssuer: ['string'],
  allowedOrigins: ['origins'],
  rateLimit: ['rateLimit'],
  rateLimitPerSecond: ['int', 0, U32],
  rateLimitBurst: ['int', 1, U32],
  maxConnections: ['int', 0, U32],
  maxConnectionsPerUser: ['int', 0, U32],
  handshakeTimeout: ['int', 1, U32],
  idleTimeout: ['int', 0, U32],
  exposeStats: ['bool'],
  keepAlive: ['bool'],
  tlsCertFile: ['string'],
  tlsKeyFile: ['string'],
  internalListen: ['string'], // "HOST:PORT"; the engine checks the form
};

// JS option name -> native (rtc_config) name, where they differ.
const RENAMED = { jwtLeewaySeconds: 'jwtLeeway', auth: 'authMode' };

// Options that must not be given together (an alias and its name, or the
// object form of the rate limit and its flat form).
const EXCLUSIVE = [['auth', 'authMode'], ['rateLimit', 'rateLimitPerSecond'], ['rateLimit', 'rateLimitBurst']];

// A redis URL for an error message, without its password.
const redactUrl = (url) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

function rateLimit(value) {
  if (value === false || value === 0) return { perSecond: 0, burst: 0 };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('option rateLimit must be { perSecond, burst? } or 0/false to disable');
  }
  for (const k of Object.keys(value)) {
    if (k !== 'perSecond' && k !== 'burst') throw invalid(`option rateLimit has an unknown field "${k}" (known: perSecond, burst)`);
  }
  const { perSecond, burst } = value;
  if (!Number.isInteger(perSecond) || perSecond < 0 || perSecond > U32 / 2) {
    throw invalid(`option rateLimit.perSecond must be an integer 0..${U32 / 2 | 0}, got ${perSecond}`);
  }
  if (burst !== undefined && (!Number.isInteger(burst) || burst < 1 || burst > U32)) {
    throw invalid(`option rateLimit.burst must be an integer 1..${U32}, got ${burst}`);
  }
  // Without a burst: twice the rate, as rtcore-server's --rate-limit N.
  return { perSecond, burst: perSecond === 0 ? 0 : burst ?? 2 * perSecond };
}

// The JWT secret as a fresh Buffer. Never put the value in a message.
function secret(value) {
  let buf;
  if (typeof value === 'string') buf = Buffer.from(value, 'utf8');
  else if (value instanceof Uint8Array) buf = Buffer.from(value); // Buffer too; copied
  else throw invalid(`option jwtSecret must be a string or a Buffer, got ${value === null ? 'null' : typeof value}`);
  if (buf.length === 0) throw invalid('option jwtSecret must not be empty');
  return buf;
}

// Returns a copy holding only the options given (undefined means default),
// under the names the native layer reads.
function engineOptions(options) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  for (const [a, b] of EXCLUSIVE) {
    if (options[a] !== undefined && options[b] !== undefined) throw invalid(`options ${a} and ${b} exclude each other`);
  }
  const out = {};
  for (const [key, value] of Object.entries(options)) {
    const spec = OPTIONS[key];
    if (!spec) throw invalid(`unknown option "${key}" (known: ${Object.keys(OPTIONS).join(', ')})`);
    if (value === undefined || (key === 'redisUrl' && value === '')) continue;
    const [kind, min, max] = spec;
    if (kind === 'string' && typeof value !== 'string') throw invalid(`option ${key} must be a string`);
    if (kind === 'string' && value.includes('\0')) throw invalid(`option ${key} must not contain NUL`);
    if (kind === 'bool' && typeof value !== 'boolean') throw invalid(`option ${key} must be a boolean`);
    if (kind === 'int' && (!Number.isInteger(value) || value < min || value > max)) {
      throw invalid(`option ${key} must be an integer ${min}..${max}, got ${value}`);
    }
    if (kind === 'enum' && !min.includes(value)) throw invalid(`option ${key} must be one of ${min.join(', ')}`);
    if (kind === 'origins') {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || !list.every((o) => typeof o === 'string' && o.trim() !== '' && !o.includes(',') && !o.includes('\0'))) {
        throw invalid(`option ${key} must be an origin string or an array of them (e.g. ['https://app.example.com'])`);
      }
      if (list.length > 0) out[key] = list.map((o) => o.trim()).join(',');
      continue;
    }
    if (kind === 'secret') {
      out.jwtSecret = secret(value);
      continue;
    }
    if (kind === 'rateLimit') {
      const r = rateLimit(value);
      out.rateLimitPerSecond = r.perSecond;
      out.rateLimitBurst = r.burst;
      continue;
    }
    out[RENAMED[key] ?? key] = kind === 'bool' ? (value ? 1 : 0) : value;
  }
  if (out.authMode !== undefined) out.authMode = out.authMode === 'jwt-hs256' ? 1 : 0;
  if (out.authMode === 1 && !out.jwtSecret) throw invalid('option authMode "jwt-hs256" needs jwtSecret');
  // A per-second rate without a burst: twice the rate, as rtcore-server does.
  if (out.rateLimitPerSecond !== undefined && out.rateLimitBurst === undefined) {
    out.rateLimitBurst = out.rateLimitPerSecond === 0 ? 0 : Math.min(2 * out.rateLimitPerSecond, U32);
  }
  if ((out.tlsCertFile === undefined) !== (out.tlsKeyFile === undefined)) {
    throw invalid('options tlsCertFile and tlsKeyFile go together: give both or neither');
  }
  if (out.host !== undefined && (out.host === '' || out.host.includes('\0'))) throw invalid('option host must be an address');
  if (out.redisUrl !== undefined && !/^(redis|unix):\/\//.test(out.redisUrl)) {
    throw invalid(`option redisUrl must be a redis:// or unix:// URL, got "${redactUrl(out.redisUrl)}"`);
  }
  return out;
}

// A message to send: without `from` it is the whole frame and must be a
// JSON object; with `from` it is any JSON value, wrapped in an envelope.
function payload(message, options) {
  const from = options && options.from;
  if (from !== undefined && typeof from !== 'string') throw invalid('options.from must be a string');
  if (from === undefined && (message === null || typeof message !== 'object' || Array.isArray(message))) {
    throw invalid('message must be a JSON object (pass { from } to send any value as content)');
  }
  let text;
  try {
    text = JSON.stringify(message);
  } catch (err) {
    throw invalid(`message is not JSON-serialisable: ${err.message}`);
  }
  if (text === undefined) throw invalid('message is not JSON-serialisable');
  return { from: from === undefined ? null : from, kind: from === undefined ? 1 : 0, text };
}

module.exports = { userId, room, closeCode, engineOptions, payload, redactUrl, OPTIONS };
