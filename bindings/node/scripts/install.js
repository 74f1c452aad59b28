#!/usr/bin/env node
// `npm install` entry: use the prebuilt addon when one for this platform
// loads (prebuilds/<platform>-<arch>/, see lib/native.js), else build from
// source (scripts/build.js: CMake, a C++ compiler and the -dev packages).
// RTCORE_BUILD_FROM_SOURCE=1 always builds.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const pkg = path.resolve(__dirname, '..');
const prebuilt = path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`, 'rtcore.node');

function prebuiltLoads() {
  if (!fs.existsSync(prebuilt)) return 'none in the package';
  try {
    // In a child, so that a binary that crashes cannot take npm down with it.
    execFileSync(process.execPath, ['-e', `require(${JSON.stringify(prebuilt)})`], { stdio: 'pipe' });
    return null;
  } catch (err) {
    const lines = err.stderr ? err.stderr.toString().split('\n') : [];
    return lines.find((l) => /Error/.test(l)) || err.message;
  }
}

const why = process.env.RTCORE_BUILD_FROM_SOURCE ? 'RTCORE_BUILD_FROM_SOURCE is set' : prebuiltLoads();
if (why === null) {
  console.log(`rtcore: using the prebuilt addon ${path.relative(pkg, prebuilt)}`);
} else {
  console.log(`rtcore: no usable prebuilt addon (${why}): building from source`);
  require('./build.js');
}
