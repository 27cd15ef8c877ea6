/**
 * `npm run bench -- SCENARIO [args]`: runs one benchmark scenario against its own ZooKeeper and
 * launcher(s), prints a table and the machine, and writes bench/results/SCENARIO.json.
 */
import { BenchEnv, report, type BenchResult } from './support/bench-env';
import { burst, recycle, scale, sequential, twoLaunchers } from './scenarios/static-scenarios';

const SCENARIOS: Record<string, (env: BenchEnv, args: string[]) => Promise<BenchResult>> = {
  sequential,
  recycle,
  burst,
  'two-launchers': twoLaunchers,
  scale,
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const scenario = SCENARIOS[name];
  if (!scenario) {
    console.error(`usage: npm run bench -- <${Object.keys(SCENARIOS).join('|')}> [args]`);
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
