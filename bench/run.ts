/**
 * `npm run bench -- SCENARIO [args]`: runs one benchmark scenario against its own ZooKeeper and
 * launcher(s), prints a table and the machine, and writes bench/results/SCENARIO.json.
 */
import { BenchEnv, report, type BenchResult } from './support/bench-env';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { hostile } from './scenarios/hostile-scenario';
import { metastatic } from './scenarios/metastatic-scenario';
import { mixedFleet } from './scenarios/mixed-fleet-scenario';
import { fleet1, fleet2, fleet4 } from './scenarios/fleet-scenario';
import { burst, fourLaunchers, recycle, scale, sequential, twoLaunchers } from './scenarios/static-scenarios';

const SCENARIOS: Record<string, (env: BenchEnv, args: string[]) => Promise<BenchResult>> = {
  sequential,
  recycle,
  burst,
  'two-launchers': twoLaunchers,
  'four-launchers': fourLaunchers,
  'fleet-1': fleet1,
  'fleet-2': fleet2,
  'fleet-4': fleet4,
  scale,
  metastatic,
  'mixed-fleet': mixedFleet,
  hostile,
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  if (name === 'node-list') {
    // Its own program (it also serves as `npm run bench:web`).
    const root = path.resolve(__dirname, '..');
    const r = spawnSync(process.execPath, ['-r', './bin/ts-register.js', 'bench/web-node-list.ts', ...args], { cwd: root, stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
  const scenario = SCENARIOS[name];
  if (!scenario) {
    console.error(`usage: npm run bench -- <${[...Object.keys(SCENARIOS), 'node-list'].join('|')}> [args]`);
    process.exit(2);
  }
  const env = new BenchEnv();
  await env.open();
  try {
    report(await scenario(env, args));
  } finally {
    await env.close();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
