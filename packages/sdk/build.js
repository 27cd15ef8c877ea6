'use strict';
// Builds the package from the SDK sources in ../../src/plugins into dist/ (JS + .d.ts): the
// sources stay where the kernel and the built-in plugins use them; this folder only packages
// them. Run by `npm run build` and by `npm pack` (prepack).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;
fs.rmSync(path.join(here, 'dist'), { recursive: true, force: true });
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
// The unit specs beside the sources are not reachable from the entries, but be sure.
for (const file of fs.readdirSync(path.join(here, 'dist'), { recursive: true })) {
  if (/\.spec\.(js|d\.ts)$/.test(file)) fs.rmSync(path.join(here, 'dist', file));
}
