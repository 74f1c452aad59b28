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

// Options: the settings table's rows (lib/options.js derives their names,
// units, ranges and defaults), plus the options without a row, written
// here: the JWT secret, the rate limit (object or flat form), and the
// binding's own keepAlive (deprecated) and shutdownTimeout (ms, for close()).
const U32 = 2 ** 32 - 1;
const { TABLE, ALIASES, toField } = require('./options');
const BINDING = {
  jwtSecret: ['secret'],
  rateLimit: ['rateLimit'],
  rateLimitPerSecond: ['int', 0, U32],
  rateLimitBurst: ['int', 1, U32],
  keepAlive: ['bool'],
  shutdownTimeout: ['int', 1, U32],
};
// A row that takes more than its field's type: allowedOrigins is a
// comma-separated string in rtc_config, an array (or one origin) here.
const SPECIAL_KIND = { allowedOrigins: 'origins' };

// Every option name the Engine takes, alias or not.
const OPTIONS = Object.freeze([...Object.keys(TABLE), ...Object.keys(ALIASES), ...Object.keys(BINDING)]);

// Options that must not be given together (an alias and its name, or the
// object form of the rate limit and its flat form).
const EXCLUSIVE = [
  ...Object.entries(ALIASES).map(([alias, { of }]) => [alias, of]),
  ['rateLimit', 'rateLimitPerSecond'],
  ['rateLimit', 'rateLimitBurst'],
];

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

function checkInt(key, value, min, max) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`option ${key} must be an integer ${min}..${max}, got ${value}`);
  }
  return value;
}

// One table row's value, checked by its kind; returns the JS value kept.
function checkRow(key, opt, value) {
  const kind = SPECIAL_KIND[opt.name] ?? opt.kind;
  if (kind === 'string') {
    if (typeof value !== 'string') throw invalid(`option ${key} must be a string`);
    if (value.includes('\0')) throw invalid(`option ${key} must not contain NUL`);
  } else if (kind === 'bool') {
    if (typeof value !== 'boolean') throw invalid(`option ${key} must be a boolean`);
  } else if (kind === 'enum') {
    if (!opt.choices.includes(value)) throw invalid(`option ${key} must be one of ${opt.choices.join(', ')}`);
  } else if (kind === 'int') {
    checkInt(key, value, opt.jsMin, opt.jsMax);
  } else if (kind === 'origins') {
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || !list.every((o) => typeof o === 'string' && o.trim() !== '' && !o.includes(',') && !o.includes('\0'))) {
      throw invalid(`option ${key} must be an origin string or an array of them (e.g. ['https://app.example.com'])`);
    }
    return list.length > 0 ? list.map((o) => o.trim()).join(',') : undefined;
  }
  return value;
}

// Returns a copy holding only the options given (undefined means default),
// under their canonical names (aliases resolved), in JS units.
function engineOptions(options) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  for (const [a, b] of EXCLUSIVE) {
    if (options[a] !== undefined && options[b] !== undefined) throw invalid(`options ${a} and ${b} exclude each other`);
  }
  const out = {};
  for (const [key, value] of Object.entries(options)) {
    const row = TABLE[key];
    const alias = ALIASES[key];
    const spec = BINDING[key];
    if (!row && !alias && !spec) throw invalid(`unknown option "${key}" (known: ${OPTIONS.join(', ')})`);
    if (value === undefined || (key === 'redisUrl' && value === '')) continue;
    if (row) {
      const v = checkRow(key, row, value);
      if (v !== undefined) out[key] = v;
      continue;
    }
    if (alias) {
      const target = TABLE[alias.of];
      // In the alias's own unit: e.g. jwtLeewaySeconds in whole seconds.
      out[alias.of] = target.kind === 'int'
        ? checkInt(key, value, Math.ceil(target.jsMin / alias.scale), Math.floor(target.jsMax / alias.scale)) * alias.scale
        : checkRow(key, target, value);
      continue;
    }
    const [kind, min, max] = spec;
    if (kind === 'bool' && typeof value !== 'boolean') throw invalid(`option ${key} must be a boolean`);
    if (kind === 'int') checkInt(key, value, min, max);
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
    out[key] = value;
  }
  if (out.authMode === 'jwt-hs256' && !out.jwtSecret) throw invalid('option authMode "jwt-hs256" needs jwtSecret');
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

// What native listen() takes for engineOptions' result: each row under its
// rtc_config field name in the field's unit (written generically there),
// plus the fields without a row.
function nativeConfig(opts) {
  const out = {};
  for (const [key, value] of Object.entries(opts)) {
    const row = TABLE[key];
    if (row) out[row.field] = toField(row, value);
  }
  if (opts.jwtSecret !== undefined) out.jwt_secret = opts.jwtSecret;
  if (opts.rateLimitPerSecond !== undefined) out.rate_limit_per_s = opts.rateLimitPerSecond;
  if (opts.rateLimitBurst !== undefined) out.rate_limit_burst = opts.rateLimitBurst;
  return out;
}

// A message to send: without `from` it is the whole frame and must be a
// JSON object; with `from` it is any JSON value, wrapped in an envelope.
// A frame send's payload: an object (serialized) or a string (one JSON
// text, sent as is: the engine checks it). The frame IS what clients get.
function frame(message) {
  if (typeof message === 'string') return message;
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    throw invalid('frame must be a JSON object or its JSON text (use the *Message calls to send any value as content)');
  }
  return json(message, 'frame');
}

// An envelope send's content: any JSON value.
function content(value) {
  return json(value, 'content');
}

function json(value, what) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw invalid(`${what} is not JSON-serialisable: ${err.message}`);
  }
  if (text === undefined) throw invalid(`${what} is not JSON-serialisable`);
  return text;
}

// The sender of an envelope send: options.from, or options.sender (an
// alias); null for "" (a server message).
function sender(options) {
  if (options === undefined || options === null) return null;
  if (typeof options !== 'object') throw invalid('options must be an object');
  const from = options.from !== undefined ? options.from : options.sender;
  if (from === undefined || from === null) return null;
  if (typeof from !== 'string') throw invalid('options.from must be a string');
  return from;
}

module.exports = { userId, room, closeCode, engineOptions, nativeConfig, frame, content, sender, redactUrl, OPTIONS };
