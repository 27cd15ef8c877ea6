/**
 * The layering rules of DESIGN.md as code: who may import what. Used by test/layering.spec.ts over
 * the real tree; kept apart so the rules themselves are tested on synthetic files too.
 */
import fs from 'node:fs';
import path from 'node:path';

/** One import that breaks a rule. */
export interface Violation {
  file: string;
  specifier: string;
  rule: string;
}

const IMPORT_RE = /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[^\w.])import\s*['"]([^'"]+)['"]|\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module specifier a TypeScript/JavaScript source imports, requires or re-exports. */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  for (const m of code.matchAll(IMPORT_RE)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return out;
}

/** Source files below `dir` (no node_modules). */
export function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|js|mjs|cjs)$/.test(entry.name)) out.push(full);
  }
  return out;
}

function resolvesInside(file: string, specifier: string, dir: string): boolean {
  const target = path.resolve(path.dirname(file), specifier);
  return !path.relative(dir, target).startsWith('..');
}

/**
 * A plugin (folder `pluginDir`) may import the SDK by name, npm packages, node built-ins, and its
 * own files; nothing else: no relative path out of its folder, no other plugin's package.
 */
export function checkPlugin(pluginDir: string, files = sourceFiles(pluginDir)): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    for (const spec of importsOf(fs.readFileSync(file, 'utf8'))) {
      if (spec === '@nodepool-ts/sdk') continue;
      if (spec.startsWith('.')) {
        if (!resolvesInside(file, spec, pluginDir)) out.push({ file, specifier: spec, rule: 'plugins import only the SDK (relative import leaves the plugin folder)' });
        continue;
      }
      if (spec.startsWith('/') || spec.startsWith('src/') || spec.startsWith('@nodepool-ts/')) {
        out.push({ file, specifier: spec, rule: 'plugins import only the SDK, npm packages and their own files' });
      }
    }
  }
  return out;
}

/** Files under `fromDir` must not import anything under any of `forbiddenDirs`. */
export function checkNoImportsInto(fromDir: string, forbiddenDirs: string[], rule: string, files = sourceFiles(fromDir)): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    for (const spec of importsOf(fs.readFileSync(file, 'utf8'))) {
      const named = spec.startsWith('@nodepool-ts/plugin-');
      const intoForbidden = spec.startsWith('.') && forbiddenDirs.some((d) => resolvesInside(file, spec, d));
      if (named || intoForbidden) out.push({ file, specifier: spec, rule });
    }
  }
  return out;
}
