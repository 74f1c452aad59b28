'use strict';
// rtcore for Node: require('rtcore').
const { Engine } = require('./lib/engine');
const { Connection } = require('./lib/connection');
const { RtcoreError, Reject } = require('./lib/errors');
const native = require('./lib/native');

// The C library's defaults (rtc_config_init) under the option names.
const defaults = Object.freeze(native.configDefaults());

// The media type of engine.metrics() (Prometheus text exposition 0.0.4).
const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

module.exports = { Engine, Connection, Reject, RtcoreError, version: native.version, defaults, METRICS_CONTENT_TYPE };
