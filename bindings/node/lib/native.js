'use strict';
// Loads the native addon. Candidates, first that loads wins:
//   1. build/rtcore.node: built from source on this machine (scripts/build.js,
//      run by `npm run build`, or by `npm install` when no prebuilt fits);
//   2. prebuilds/<platform>-<arch>/rtcore.node: the prebuilt binary the npm
//      tarball carries (scripts/build-node-prebuild.sh in the repository),
//      with librtcore and its libraries beside it (found through $ORIGIN).
// RTCORE_NATIVE=/path/to/rtcore.node loads that file only.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const platformDir = `${process.platform}-${process.arch}`;

function candidates() {
  if (process.env.RTCORE_NATIVE) return [path.resolve(process.env.RTCORE_NATIVE)];
  return [path.join(root, 'build', 'rtcore.node'), path.join(root, 'prebuilds', platformDir, 'rtcore.node')];
}

function load() {
  const errors = [];
  for (const file of candidates()) {
    if (!fs.existsSync(file)) {
      errors.push(`${file}: not there`);
      continue;
    }
    try {
      return { addon: require(file) };
    } catch (err) {
      errors.push(`${file}: ${err.message}`);
    }
  }
  const err = new Error(
    `rtcore: cannot load the native addon (no prebuilt binary for ${platformDir} loads here; ` +
      `build it from source with \`npm run build\` in the package, which needs CMake, a C++ compiler ` +
      `and libwebsockets-dev, libuv1-dev, libhiredis-dev, libssl-dev):\n  ${errors.join('\n  ')}`,
  );
  err.code = 'RTCORE_NATIVE_NOT_FOUND';
  throw err;
}

module.exports = load().addon;
