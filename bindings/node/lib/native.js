'use strict';
// Loads the addon built by scripts/build.js (build/rtcore.node, with
// librtcore.so beside it).
const path = require('node:path');

const file = path.join(__dirname, '..', 'build', 'rtcore.node');
try {
  module.exports = require(file);
} catch (err) {
  err.message = `rtcore: cannot load the native addon ${file} (run \`npm run build\` in the package): ${err.message}`;
  throw err;
}
