#!/usr/bin/env node
// `npm pack` hooks: copy the repository's LICENSE and NOTICE into the
// package (prepack) and remove the copies again (postpack, --clean).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const pkg = path.resolve(__dirname, '..');
const root = path.resolve(process.env.RTCORE_ENGINE_DIR || path.join(pkg, '..', '..'));
for (const name of ['LICENSE', 'NOTICE']) {
  const dest = path.join(pkg, name);
  if (process.argv.includes('--clean')) fs.rmSync(dest, { force: true });
  else fs.copyFileSync(path.join(root, name), dest);
}
