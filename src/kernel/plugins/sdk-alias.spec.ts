import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

describe('installSdkAlias', () => {
  it('resolves both SDK entries, from anywhere on disk, to this kernel\'s SDK (node\'s own resolver, as plugins use it)', () => {
    // Jest resolves modules itself, so the hook is exercised in a plain node process.
    const script = `
      require(${JSON.stringify(path.join(ROOT, 'src/kernel/plugins/sdk-alias.ts'))}).installSdkAlias();
      const paths = { paths: ['/'] };
      console.log(JSON.stringify([require.resolve('@nodepool-ts/sdk', paths), require.resolve('@nodepool-ts/sdk/testing', paths)]));`;
    const out = execFileSync(process.execPath, ['-r', path.join(ROOT, 'bin/ts-register.js'), '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([path.join(ROOT, 'src/plugins/index.ts'), path.join(ROOT, 'src/plugins/testing/index.ts')]);
  });
});
