'use strict';
// rtcore for Node: require('rtcore').
const { Engine } = require('./lib/engine');
const { Connection } = require('./lib/connection');
const { RtcoreError, Reject } = require('./lib/errors');
const native = require('./lib/native');

module.exports = { Engine, Connection, Reject, RtcoreError, version: native.version };
