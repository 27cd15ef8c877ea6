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

/** The file a relative specifier names (`x`, `x.ts`, `x/index.ts`...), or undefined. */
function resolveRelative(file: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(file), specifier);
  for (const candidate of [base, ...['.ts', '.js', '.mjs', '.cjs'].map((e) => base + e), ...['index.ts', 'index.js'].map((i) => path.join(base, i))]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/**
 * Import cycles among `files` (relative imports, type-only ones included: a cycle of types is
 * still two files that cannot be read apart). Each cycle once, as the files in import order,
 * starting from its smallest path.
 */
export function findImportCycles(files: readonly string[]): string[][] {
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const targets = importsOf(fs.readFileSync(file, 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => resolveRelative(file, s))
      .filter((t): t is string => t !== undefined && known.has(t));
    edges.set(file, [...new Set(targets)]);
  }
  // Tarjan's strongly connected components, then one shortest cycle through each component.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) components.push(component);
    }
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return components.map((component) => {
    const inside = new Set(component);
    const start = [...component].sort()[0];
    // Breadth-first from start back to start, within the component.
    const prev = new Map<string, string>();
    const queue = [start];
    let end: string | undefined;
    while (queue.length > 0 && end === undefined) {
      const v = queue.shift()!;
      for (const w of edges.get(v) ?? []) {
        if (!inside.has(w)) continue;
        if (w === start) {
          end = v;
          break;
        }
        if (!prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    const cycle = [end!];
    while (cycle[0] !== start) cycle.unshift(prev.get(cycle[0])!);
    return cycle;
  });
}
