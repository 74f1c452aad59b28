'use strict';
// Argument checks done in JS, before native code sees anything, so a
// mistake fails at the call with a message naming the argument.
const { invalid } = require('./errors');

// PROTOCOL.md section 1-2: 1..128 bytes of UTF-8, no control characters;
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

// Option name -> [kind, min, max]. Durations are milliseconds.
const OPTIONS = {
  port: ['int', 0, 65535],
  host: ['string'],
  redisUrl: ['string'],
  nodeId: ['string'],
  pingInterval: ['int', 1, 2 ** 32 - 1],
  pingTimeout: ['int', 1, 2 ** 32 - 1],
  maxMessageSize: ['int', 1, Number.MAX_SAFE_INTEGER],
  maxSendQueueBytes: ['int', 1, Number.MAX_SAFE_INTEGER],
  maxRoomsPerConnection: ['int', 0, 2 ** 32 - 1],
  allowPostWithoutJoin: ['bool'],
  logLevel: ['int', 0, 3],
  shutdownTimeout: ['int', 1, 2 ** 32 - 1],
  redisPrefix: ['string'],
  nodeTtl: ['int', 1, 2 ** 32 - 1],
  redisConnectTimeout: ['int', 1, 2 ** 32 - 1],
  redisBufferBytes: ['int', 1, Number.MAX_SAFE_INTEGER],
  auth: ['enum', ['none', 'jwt-hs256']],
  jwtSecret: ['string'],
  jwtLeewaySeconds: ['int', 0, 2 ** 32 - 1],
  jwtAudience: ['string'],
  jwtIssuer: ['string'],
  allowedOrigins: ['origins'],
  rateLimitPerSecond: ['int', 0, 2 ** 32 - 1],
  rateLimitBurst: ['int', 0, 2 ** 32 - 1],
  maxConnections: ['int', 0, 2 ** 32 - 1],
  maxConnectionsPerUser: ['int', 0, 2 ** 32 - 1],
  handshakeTimeout: ['int', 1, 2 ** 32 - 1],
  idleTimeout: ['int', 0, 2 ** 32 - 1],
  exposeStats: ['bool'],
};

// JS option name -> native (rtc_config) name, where they differ.
const RENAMED = { jwtLeewaySeconds: 'jwtLeeway' };

// Returns a copy holding only the options given (undefined means default).
function engineOptions(options) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  const out = {};
  for (const [key, value] of Object.entries(options)) {
    const spec = OPTIONS[key];
    if (!spec) throw invalid(`unknown option "${key}" (known: ${Object.keys(OPTIONS).join(', ')})`);
    if (value === undefined || (key === 'redisUrl' && value === '')) continue;
    const [kind, min, max] = spec;
    if (kind === 'string' && typeof value !== 'string') throw invalid(`option ${key} must be a string`);
    if (kind === 'bool' && typeof value !== 'boolean') throw invalid(`option ${key} must be a boolean`);
    if (kind === 'int' && (!Number.isInteger(value) || value < min || value > max)) {
      throw invalid(`option ${key} must be an integer ${min}..${max}, got ${value}`);
    }
    if (kind === 'enum' && !min.includes(value)) throw invalid(`option ${key} must be one of ${min.join(', ')}`);
    if (kind === 'origins') {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || !list.every((o) => typeof o === 'string' && o !== '' && !o.includes(','))) {
        throw invalid(`option ${key} must be an origin string or an array of them`);
      }
      out[key] = list.join(',');
      continue;
    }
    out[RENAMED[key] ?? key] = kind === 'bool' ? (value ? 1 : 0) : value;
  }
  if (out.auth !== undefined) {
    out.authMode = out.auth === 'jwt-hs256' ? 1 : 0;
    delete out.auth;
  }
  if (out.authMode === 1 && !out.jwtSecret) throw invalid('option auth "jwt-hs256" needs jwtSecret');
  if (out.host !== undefined && (out.host === '' || out.host.includes('\0'))) throw invalid('option host must be an address');
  if (out.redisUrl !== undefined && !/^(redis|unix):\/\//.test(out.redisUrl)) {
    throw invalid(`option redisUrl must be a redis:// or unix:// URL, got "${out.redisUrl}"`);
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

module.exports = { userId, room, closeCode, engineOptions, payload, OPTIONS };
