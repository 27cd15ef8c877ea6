'use strict';
// The compiled output of each TypeScript source, kept on disk so that a warm start never loads
// swc: its native binding alone costs every launcher ~80 MB of RSS. One cache file per source
// path (a changed source overwrites its entry instead of piling up new ones), headed by a key
// over everything the output depends on: the source text, the swc version and options, and the
// file name (the inline source map names it). Anything else is a miss and is compiled afresh, so
// the cache can never run stale output; it is only ever a shortcut.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

function sha256(text) {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/**
 * Returns `compile(source, filename) => code`.
 * @param {{ cacheDir: string | undefined, options: object, swcVersion: string, loadSwc: () => { transformSync: Function } }} opts
 *   `cacheDir` undefined: no cache (always compile). `loadSwc` is called on the first miss only.
 */
function createCompiler({ cacheDir, options, swcVersion, loadSwc }) {
  const optionsKey = `${swcVersion}\0${JSON.stringify(options)}`;
  let swc;
  return function compile(source, filename) {
    const header = `//${sha256(`${optionsKey}\0${filename}\0${source}`)}\n`;
    const entry = cacheDir && path.join(cacheDir, `${sha256(filename).slice(0, 40)}.js`);
    if (entry) {
      try {
        const cached = fs.readFileSync(entry, 'utf8');
        if (cached.startsWith(header)) return cached.slice(header.length);
      } catch {
        // No entry yet (or unreadable): compile below.
      }
    }
    swc ??= loadSwc();
    const { code } = swc.transformSync(source, { ...options, filename, swcrc: false });
    if (entry) {
      // Written aside and renamed, so a concurrent reader (tests start launchers in parallel)
      // sees the old entry or the new one, never half of one. A read-only checkout just misses.
      const tmp = `${entry}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
      try {
        fs.mkdirSync(cacheDir, { recursive: true });
        fs.writeFileSync(tmp, header + code);
        fs.renameSync(tmp, entry);
      } catch {
        try {
          fs.rmSync(tmp, { force: true });
        } catch {
          // Nothing was written.
        }
      }
    }
    return code;
  };
}

module.exports = { createCompiler };
