// Derives the CommonJS build (dist/index.cjs) from the ES module source:
// the source has no imports and one final `export { ... };` line, so the
// translation is textual. `--check` fails when dist/ is out of date.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = readFileSync(join(root, 'src/index.js'), 'utf8');
const m = src.match(/^export \{([^}]*)\};\s*$/m);
if (!m || /^\s*(import|export)\s/m.test(src.replace(m[0], ''))) {
  throw new Error('build: src/index.js must have no imports and exactly one final export { ... } line');
}
const names = m[1].split(',').map((s) => s.trim()).filter(Boolean);
const out = `'use strict';\n// Generated from src/index.js by scripts/build.mjs; do not edit.\n${src.replace(
  m[0],
  `module.exports = { ${names.join(', ')} };\n`,
)}`;
const target = join(root, 'dist/index.cjs');
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch (_) {
    /* missing */
  }
  if (current !== out) {
    console.error('build: dist/index.cjs is out of date; run npm run build in clients/js');
    process.exit(1);
  }
} else {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, out);
}
