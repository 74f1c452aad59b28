#!/usr/bin/env node
// `npm pack` hooks: copy the engine sources into engine/ so the tarball
// builds on its own (prepack), and remove the copy again (postpack,
// --clean). What is copied follows the repository's top-level CMakeLists:
// every directory it includes or adds, except tests.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const pkg = path.resolve(__dirname, '..');
const dest = path.join(pkg, 'engine');
// RTCORE_ENGINE_DIR packs another tree (e.g. a clean export of a commit).
const root = path.resolve(process.env.RTCORE_ENGINE_DIR || path.join(pkg, '..', '..'));

fs.rmSync(dest, { recursive: true, force: true });
if (process.argv.includes('--clean')) process.exit(0);

const top = path.join(root, 'CMakeLists.txt');
if (!fs.existsSync(top) || !fs.existsSync(path.join(root, 'capi', 'include', 'rtcore.h'))) {
  console.error(`rtcore: no rtcore repository at ${root}; cannot pack the engine sources`);
  process.exit(1);
}
const text = fs.readFileSync(top, 'utf8');
const dirs = new Set();
for (const m of text.matchAll(/add_subdirectory\(\s*([\w./-]+)/g)) dirs.add(m[1].split('/')[0]);
for (const m of text.matchAll(/include\(\s*([\w-]+)\//g)) dirs.add(m[1]);
dirs.delete('tests');

// Skip build output, other bindings' and examples' languages we don't need.
const skip = (src) => /(^|\/)(node_modules|build[^/]*|__pycache__)(\/|$)/.test(path.relative(root, src));
fs.mkdirSync(dest);
fs.copyFileSync(top, path.join(dest, 'CMakeLists.txt'));
for (const dir of dirs) {
  fs.cpSync(path.join(root, dir), path.join(dest, dir), { recursive: true, filter: (src) => !skip(src) });
}
console.log(`rtcore: packed engine sources (${[...dirs].join(', ')}) into engine/`);
