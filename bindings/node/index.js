'use strict';
// rtcore for Node: require('rtcore').
const { Engine } = require('./lib/engine');
const { Connection } = require('./lib/connection');
const { RtcoreError, Reject, MessageError } = require('./lib/errors');
const native = require('./lib/native');
const options = require('./lib/options');

// The C library's defaults (rtc_config_init) under the option names, in ms.
const defaults = Object.freeze(options.defaults());
// The settings table as this binding offers it: option name -> { name,
// field (rtc_config), kind, min, max (the field's), scale, default, help,
// flag (rtcore-server's) }.
const optionTable = options.TABLE;
// The counters' table (rtc_stats_field): [{ name, kind, help }], in
// rtc_stats order; engine.stats() has one camelCased key each.
const statsFields = Object.freeze(native.statsFields().map((f) => Object.freeze({ ...f, key: options.camel(f.name) })));

// The media type of engine.metrics() (Prometheus text exposition 0.0.4).
const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

module.exports = { Engine, Connection, Reject, MessageError, RtcoreError, version: native.version, defaults, optionTable, statsFields,
  METRICS_CONTENT_TYPE };
