/**
 * The Zuul-style load of {@link runJobs} in a process of its own, so a scenario can measure the
 * launcher's memory and CPU without the requestor's. Usage (from the repo root):
 *   node -r ./bin/ts-register.js bench/support/requestor-child.ts HOSTS TOTAL CONCURRENCY LABEL
 * Prints one JSON line: the JobRunResult.
 */
import { NodepoolZk } from '../../src/zk/nodepool-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { CaptureLogger } from '../../test/support/capture-logger';
import { ZuulRequestor } from '../../test/support/zuul-requestor';
import { runJobs } from './job-runner';

async function main(): Promise<void> {
  const [hosts, total, concurrency, label] = process.argv.slice(2);
  const client = new ZkClient({ hosts });
  await client.connect();
  const zuul = new ZuulRequestor(new NodepoolZk(client, new CaptureLogger()), { pollMs: 1000 });
  const result = await runJobs(zuul, { total: Number(total), concurrency: Number(concurrency), labels: [label], timeoutMs: 1_800_000 });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await client.close();
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
