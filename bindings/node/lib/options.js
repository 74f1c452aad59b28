'use strict';
// The Engine's options, derived from the C library's settings table
// (rtc_config_option through native.configOptions(); the same rows make
// rtcore-server's flags), so a new row is an option here with no change.
// The rules, applied to the row's rtc_config field name:
//
// - The name is the field's, camelCased, without a trailing `_ms` or `_s`:
//   max_send_queue_bytes -> maxSendQueueBytes, ping_interval_ms ->
//   pingInterval, history_ttl_s -> historyTtl.
// - Durations are milliseconds in Node. A field in ms (a `_ms` suffix, or
//   unit ms/seconds) takes the value as is; a field in seconds (`_s`) takes
//   ms too, rounded up to whole seconds (historyTtl: 1500 -> 2 s).
// - Sizes and counts are integers; booleans are booleans; an enum is one of
//   the names its help lists ("none|jwt-hs256: ..."); strings are strings.
// - Ranges are the row's min/max (scaled to ms for seconds fields);
//   defaults are rtc_config_init's in these units (rtcore.defaults).
//
// Exceptions, written once here: ALIASES (names kept from before the table)
// and CHECKS (extra checks of one row). Options without a row stay
// hand-written in validate.js: jwtSecret, the rate limit, allowedOrigins'
// array form (a row, but taking arrays), keepAlive (deprecated) and shutdownTimeout
// (the binding's own).
const native = require('./native');

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

function choices(row) {
  return row.help.split(':', 1)[0].split('|');
}

function derive(row) {
  const kind = { string: 'string', bool: 'bool', enum: 'enum', uint: 'int' }[row.type];
  if (kind === undefined) return null; // a type this binding does not know (a newer library)
  let base = row.name;
  let scale = 1; // JS value = field value * scale
  if (kind === 'int' && base.endsWith('_ms')) base = base.slice(0, -3);
  else if (kind === 'int' && base.endsWith('_s')) {
    base = base.slice(0, -2);
    scale = 1000;
  }
  const opt = { name: camel(base), field: row.name, kind, min: row.min, max: row.max, scale, help: row.help, flag: row.flag };
  if (kind === 'enum') opt.choices = choices(row);
  if (kind === 'int') {
    // The JS range: what rounds up (for seconds fields) into [min, max].
    opt.jsMin = scale === 1 || row.min === 0 ? row.min * scale : (row.min - 1) * scale + 1;
    opt.jsMax = Math.min(row.max * scale, Number.MAX_SAFE_INTEGER);
  }
  if (kind === 'enum') opt.default = opt.choices[row.default];
  else opt.default = kind === 'int' ? row.default * scale : row.default;
  return opt;
}

// Every row this binding offers, by option name, in the table's order.
const TABLE = Object.freeze(
  Object.fromEntries(native.configOptions().map(derive).filter(Boolean).map((o) => [o.name, Object.freeze(o)])),
);

// Names kept from before the table: alias -> { of: option, scale: ms per
// unit of the alias }. An alias and its option exclude each other.
const ALIASES = Object.freeze({
  auth: { of: 'authMode', scale: 1 },
  joinTimeoutMs: { of: 'joinTimeout', scale: 1 },
  jwtLeewaySeconds: { of: 'jwtLeeway', scale: 1000 }, // whole seconds
});

// The field's value for a checked JS value.
function toField(opt, value) {
  if (opt.kind === 'bool') return value ? 1 : 0;
  if (opt.kind === 'enum') return opt.choices.indexOf(value);
  if (opt.kind === 'int') return Math.ceil(value / opt.scale);
  return value;
}

// rtc_config_init's values under the option names, plus the aliases and
// the rate limit pair (which has no row).
function defaults() {
  const out = {};
  for (const o of Object.values(TABLE)) out[o.name] = o.default;
  for (const [alias, { of, scale }] of Object.entries(ALIASES)) out[alias] = TABLE[of].kind === 'int' ? out[of] / scale : out[of];
  const c = native.configDefaults();
  out.rateLimitPerSecond = c.rate_limit_per_s;
  out.rateLimitBurst = c.rate_limit_burst;
  return out;
}

module.exports = { TABLE, ALIASES, toField, defaults, camel };
