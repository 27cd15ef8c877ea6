'use strict';
// Runs the TypeScript sources directly: every .ts file is compiled in memory by swc with the
// repository's .swcrc (the same settings jest uses), so `bin/` needs no build step and can never
// run stale output. (The kernel resolves `@nodepool-ts/sdk` for plugins itself.)
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '..');
const options = JSON.parse(fs.readFileSync(path.join(root, '.swcrc'), 'utf8'));
delete options.$schema;

if (!require.extensions['.ts']) {
  require.extensions['.ts'] = function compileTs(module, filename) {
    const source = fs.readFileSync(filename, 'utf8');
    const { code } = swc.transformSync(source, { ...options, filename, swcrc: false });
    module._compile(code, filename);
  };
  process.setSourceMapsEnabled(true);
}
require('reflect-metadata');
