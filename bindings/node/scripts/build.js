#!/usr/bin/env node
// `npm install` entry: configures and builds the addon with plain CMake,
// offline, against the Node headers already on the machine (node-gyp and
// cmake-js would try to download them).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const pkg = path.resolve(__dirname, '..');
const build = path.join(pkg, 'build');

// A packed tarball carries the engine in engine/ (scripts/copy-engine.js);
// inside the repository the engine is two levels up. RTCORE_ENGINE_DIR
// overrides both (e.g. a clean export of a commit).
function engineDir() {
  if (process.env.RTCORE_ENGINE_DIR) return path.resolve(process.env.RTCORE_ENGINE_DIR);
  for (const dir of [path.join(pkg, 'engine'), path.resolve(pkg, '..', '..')]) {
    if (fs.existsSync(path.join(dir, 'capi', 'include', 'rtcore.h'))) return dir;
  }
  throw new Error('rtcore: engine sources not found (neither engine/ nor the repository root)');
}

// Node's own headers: beside the running node (…/include/node), else
// npm_config_nodedir, else Debian's /usr/include/node.
function nodeIncludeDir() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
  ].filter(Boolean);
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!found) throw new Error(`rtcore: node_api.h not found in ${candidates.join(', ')}`);
  return found;
}

function run(cmd, args) {
  console.log(`rtcore: ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: 'inherit', cwd: pkg });
}

function has(cmd) {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// npm installs a linked folder (`npm install ./bindings/node`) without its
// dependencies, so fetch node-addon-api (headers only) here when missing.
function addonApiDir() {
  try {
    // include_dir is relative to the current directory: make it absolute.
    return path.resolve(require('node-addon-api').include_dir);
  } catch {
    const range = require(path.join(pkg, 'package.json')).dependencies['node-addon-api'];
    run('npm', ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--omit=dev',
      `node-addon-api@${range}`]);
    return path.resolve(require(require.resolve('node-addon-api', { paths: [pkg] })).include_dir);
  }
}

const generator = has('ninja') ? ['-G', 'Ninja'] : [];
run('cmake', [
  '-S', pkg, '-B', build, ...generator,
  '-DCMAKE_BUILD_TYPE=' + (process.env.RTCORE_BUILD_TYPE || 'Release'),
  '-DRTCORE_ENGINE_DIR=' + engineDir(),
  '-DNODE_INCLUDE_DIR=' + nodeIncludeDir(),
  '-DNODE_ADDON_API_DIR=' + addonApiDir(),
]);
run('cmake', ['--build', build, '--target', 'rtcore_node', '--parallel']);
