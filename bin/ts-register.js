'use strict';
// Runs the TypeScript sources directly: every .ts file is compiled in memory by swc with the
// repository's .swcrc (the same settings jest uses), so `bin/` needs no build step and can never
// run stale output. `@nodepool-ts/sdk` is resolved to the SDK folder for in-repo plugins; the
// kernel adds the same alias for plugins found elsewhere.
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
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
  const sdk = path.join(root, 'src', 'plugins', 'index.ts');
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function resolveSdk(request, ...rest) {
    return request === '@nodepool-ts/sdk' ? sdk : resolve.call(this, request, ...rest);
  };
}
require('reflect-metadata');
