import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface Swc {
  transformSync(source: string, options: object): { code: string };
}
interface CompilerOptions {
  cacheDir: string | undefined;
  options: object;
  swcVersion: string;
  loadSwc: () => Swc;
}
// bin/ is plain JavaScript (it runs before any TypeScript can); typed here by hand.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createCompiler } = require('../bin/compile-cache.js') as { createCompiler: (o: CompilerOptions) => (source: string, filename: string) => string };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const realSwc = require('@swc/core') as Swc;

const swcOptions = { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } };

describe('bin/compile-cache', () => {
  let dir: string;
  let compiled: string[];
  let loads: number;
  const counting = (): Swc => {
    loads++;
    return { transformSync: (source, options) => (compiled.push(source), realSwc.transformSync(source, options)) };
  };
  const compiler = (options: object = swcOptions, swcVersion = '1.0.0'): ((source: string, filename: string) => string) =>
    createCompiler({ cacheDir: dir, options, swcVersion, loadSwc: counting });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compile-cache-'));
    compiled = [];
    loads = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('compiles on a miss and serves the same output from disk without loading swc', () => {
    const source = 'export const answer: number = 42;\n';
    const first = compiler()(source, '/src/a.ts');
    expect(first).toContain('42');
    expect(loads).toBe(1);
    // A new process (new compiler) with the same source: no swc at all.
    const second = compiler()(source, '/src/a.ts');
    expect(second).toBe(first);
    expect(loads).toBe(1);
    expect(compiled).toHaveLength(1);
  });

  it('recompiles a changed source and keeps one entry per file', () => {
    compiler()('export const v: number = 1;\n', '/src/b.ts');
    const changed = compiler()('export const v: number = 2;\n', '/src/b.ts');
    expect(changed).toContain('2');
    expect(changed).not.toContain('= 1');
    expect(compiled).toHaveLength(2);
    expect(fs.readdirSync(dir)).toHaveLength(1);
    // And the new output is what is cached now.
    expect(compiler()('export const v: number = 2;\n', '/src/b.ts')).toBe(changed);
    expect(compiled).toHaveLength(2);
  });

  it('recompiles when the swc options or version change', () => {
    const source = 'export class C { x = 1; }\n';
    compiler()(source, '/src/c.ts');
    const es5ish = compiler({ ...swcOptions, jsc: { ...swcOptions.jsc, target: 'es2015' } })(source, '/src/c.ts');
    compiler(swcOptions, '2.0.0')(source, '/src/c.ts');
    expect(compiled).toHaveLength(3);
    expect(es5ish).toContain('constructor');
  });

  it('keys entries by file name too (inline source maps name the file)', () => {
    const source = 'export const same = true;\n';
    compiler()(source, '/src/d.ts');
    compiler()(source, '/src/e.ts');
    expect(compiled).toHaveLength(2);
  });

  it('still compiles when the cache directory cannot be written', () => {
    const blocked = path.join(dir, 'file');
    fs.writeFileSync(blocked, '');
    const compile = createCompiler({ cacheDir: path.join(blocked, 'sub'), options: swcOptions, swcVersion: '1', loadSwc: counting });
    expect(compile('export const ok = 1;\n', '/src/f.ts')).toContain('ok');
    expect(compile('export const ok = 1;\n', '/src/f.ts')).toContain('ok');
    expect(compiled).toHaveLength(2);
  });
});
