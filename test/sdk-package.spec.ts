/**
 * The @nodepool-ts/sdk package as a third party sees it, checked on one compilation of its two
 * entries:
 * - its API report (packages/sdk/api/sdk.api.d.ts) is the fresh declaration output, so a change of
 *   the public API shows up in review as a diff of that file. After an intended change run
 *   `npm run sdk:api`, and bump the SDK version as semver says (packages/sdk/package.json and
 *   SDK_VERSION in src/kernel/plugins/sdk-range.ts);
 * - every public declaration (exports, public members of exported classes and interfaces) has
 *   TSDoc, and no doc comment cites a spec file that is not in this repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import type ts from 'typescript';
import { sdkDocCoverage } from './support/sdk-tsdoc';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const apiReport = require('../packages/sdk/scripts/api-report.js') as {
  buildApiReport: (program?: ts.Program) => string;
  createSdkProgram: () => ts.Program;
  REPORT_FILE: string;
};

const SDK_DIR = path.resolve(__dirname, '../src/plugins');
let program: ts.Program;

beforeAll(() => {
  program = apiReport.createSdkProgram();
}, 60_000);

/** The first lines where two texts differ, for a readable failure. */
function firstDifference(committed: string, fresh: string): string {
  const a = committed.split('\n');
  const b = fresh.split('\n');
  const at = a.findIndex((line, i) => line !== b[i]);
  const i = at < 0 ? a.length : at;
  return `first difference at line ${i + 1}:\n  committed: ${a[i] ?? '(end)'}\n  fresh:     ${b[i] ?? '(end)'}`;
}

function sdkSources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sdkSources(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [full] : [];
  });
}

describe('@nodepool-ts/sdk', () => {
  it('packages/sdk/api/sdk.api.d.ts matches the declarations of the current SDK (run `npm run sdk:api` after an intended change)', () => {
    const fresh = apiReport.buildApiReport(program);
    const committed = fs.existsSync(apiReport.REPORT_FILE) ? fs.readFileSync(apiReport.REPORT_FILE, 'utf8') : '';
    if (committed !== fresh) throw new Error(`the public API of @nodepool-ts/sdk changed; review it and run \`npm run sdk:api\`\n${firstDifference(committed, fresh)}`);
    expect(fresh).toContain('// ---- index\n');
    expect(fresh).toContain('// ---- testing/index\n');
  }, 60_000);

  it('every public declaration of the SDK has TSDoc (100 %)', () => {
    const { total, undocumented } = sdkDocCoverage(program);
    expect(total).toBeGreaterThan(300);
    expect(undocumented.map((u) => `${u.where} ${u.name}`)).toEqual([]);
  }, 60_000);

  it('cites no spec file that is not in the repository', () => {
    // The protocol spec lives outside this repository; SDK docs explain themselves or point to docs/.
    const citations = sdkSources(SDK_DIR).flatMap((file) =>
      fs.readFileSync(file, 'utf8').split('\n').flatMap((line, i) =>
        /\bspec\b[^.]*§|zk-protocol\.md|drivers-config\.md|spec\/|\(spec |spec drivers-config/.test(line) ? [`${path.relative(SDK_DIR, file)}:${i + 1}: ${line.trim()}`] : [],
      ),
    );
    expect(citations).toEqual([]);
  });
});
