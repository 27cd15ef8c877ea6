'use strict';
// Runs the TypeScript sources directly: every .ts file is compiled by swc with the repository's
// .swcrc (the same settings jest uses), so `bin/` needs no build step and can never run stale
// output. Compiled files are cached on disk (bin/compile-cache.js) under
// node_modules/.cache/nodepool-ts, or $NODEPOOL_TS_CACHE_DIR; swc itself is only loaded on a
// miss. (The kernel resolves `@nodepool-ts/sdk` for plugins itself.)
const fs = require('node:fs');
const path = require('node:path');
const { createCompiler } = require('./compile-cache');

const root = path.resolve(__dirname, '..');
const options = JSON.parse(fs.readFileSync(path.join(root, '.swcrc'), 'utf8'));
delete options.$schema;

if (!require.extensions['.ts']) {
  const compile = createCompiler({
    cacheDir: process.env.NODEPOOL_TS_CACHE_DIR || path.join(root, 'node_modules', '.cache', 'nodepool-ts'),
    options,
    // Read from its package.json: requiring @swc/core here would load the binding we avoid.
    swcVersion: JSON.parse(fs.readFileSync(require.resolve('@swc/core/package.json'), 'utf8')).version,
    loadSwc: () => require('@swc/core'),
  });
  require.extensions['.ts'] = function compileTs(module, filename) {
    module._compile(compile(fs.readFileSync(filename, 'utf8'), filename), filename);
  };
  process.setSourceMapsEnabled(true);
}
require('reflect-metadata');
