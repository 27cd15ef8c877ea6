/**
 * One launcher in a process of its own, as a fleet runs them (one per host), for the `fleet-N`
 * scenarios: several launchers in one Node process share one thread, so they cannot add
 * capacity there whatever they do. Usage (from the repo root):
 *   node -r ./bin/ts-register.js bench/support/launcher-child.ts CONFIG HOSTNAME
 * Prints `ready` once started; on each line `ops` from stdin prints its ZooKeeper requests so
 * far by operation (one JSON line); on `stop` it stops and exits.
 */
import readline from 'node:readline';
import { createLauncher } from '../../src/launcher/create-launcher';
import { ZooKeeper } from '../../src/plugins/zookeeper';
import type { ZkClient } from '../../src/zk/zk-client';
import { testSettings } from '../../test/support/test-settings';

async function main(): Promise<void> {
  const [config, hostname] = process.argv.slice(2);
  const launcher = await createLauncher(testSettings({ config, hostname, log: { level: 'error', format: 'json' }, tracing: { exporter: 'none' } }));
  if (launcher.configErrors.length) throw new Error(`config errors: ${JSON.stringify(launcher.configErrors)}`);
  await launcher.kernel.start();
  const client = launcher.kernel.container.get<ZooKeeper>(ZooKeeper).client as unknown as ZkClient;
  process.stdout.write('ready\n');
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line === 'ops') process.stdout.write(`${JSON.stringify({ ...client.operationCounts, cpuMs: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 })}\n`);
    if (line === 'stop') break;
  }
  await launcher.kernel.stop();
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
