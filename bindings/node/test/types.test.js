'use strict';
// index.d.ts and a usage file type-check with `tsc --noEmit`.
const { test } = require('node:test');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { assert } = require('./helpers');

test('index.d.ts passes tsc --noEmit', { timeout: 60000 }, () => {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [path.join(__dirname, '..')] });
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types'), '--noEmit'], { encoding: 'utf8' });
  } catch (err) {
    assert.fail(`tsc failed:\n${err.stdout}${err.stderr}`);
  }
});
