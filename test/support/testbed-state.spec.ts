/**
 * openstack-testbed/testbed-state.sh decides what testbed-up.sh does from the services' own state
 * (MariaDB, RabbitMQ), not from a marker file alone: a work folder deleted with the databases left
 * behind must lead to a wipe, not to a setup that dies on Keystone's 409. Runs the real script
 * with stand-ins for `mysql` and `rabbitmqctl` on PATH that answer like the services would.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = path.join(__dirname, 'openstack-testbed/testbed-state.sh');

// mysql: the count of testbed databases, then the count of Keystone `service` projects (or an
// error when FAKE_PROJECT=missing, as when the keystone database has no tables yet).
const FAKE_MYSQL = `#!/bin/sh
case "$*" in
  *information_schema*) [ "$FAKE_DBS" = down ] && exit 1; echo "$FAKE_DBS" ;;
  *keystone.project*) [ "$FAKE_PROJECT" = missing ] && exit 1; echo "$FAKE_PROJECT" ;;
  *) exit 1 ;;
esac
`;
// rabbitmqctl list_permissions -p testbed: our user's line, or RabbitMQ's "no such vhost" exit.
const FAKE_RABBITMQCTL = `#!/bin/sh
[ "$FAKE_RABBIT" = yes ] || exit 65
printf 'testbed\\t.*\\t.*\\t.*\\n'
`;

interface Services { dbs: string; project: string; rabbit: 'yes' | 'no'; workFolder: 'complete' | 'gone' }

function decide(s: Services): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'testbed-state-'));
  try {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'mysql'), FAKE_MYSQL, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'rabbitmqctl'), FAKE_RABBITMQCTL, { mode: 0o755 });
    const work = path.join(tmp, 'work');
    if (s.workFolder === 'complete') {
      fs.mkdirSync(work);
      fs.writeFileSync(path.join(work, '.setup-done'), '');
    }
    const run = spawnSync('bash', [SCRIPT], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, OS_TESTBED_DIR: work, FAKE_DBS: s.dbs, FAKE_PROJECT: s.project, FAKE_RABBIT: s.rabbit },
    });
    return `${run.stdout.split(':')[0]} (exit ${run.status})`;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

test.each<[string, Services, string]>([
  ['nothing of ours anywhere', { dbs: '0', project: 'missing', rabbit: 'no', workFolder: 'gone' }, 'setup (exit 0)'],
  ['only RabbitMQ left (setup replaces its user)', { dbs: '0', project: 'missing', rabbit: 'yes', workFolder: 'gone' }, 'setup (exit 0)'],
  ['a complete setup, stopped', { dbs: '7', project: '1', rabbit: 'yes', workFolder: 'complete' }, 'start (exit 0)'],
  ['databases of a setup whose work folder is gone (issue 18)', { dbs: '7', project: '1', rabbit: 'yes', workFolder: 'gone' }, 'wipe (exit 0)'],
  ['marker there, Keystone never bootstrapped', { dbs: '7', project: 'missing', rabbit: 'yes', workFolder: 'complete' }, 'wipe (exit 0)'],
  ['marker there, no service project', { dbs: '3', project: '0', rabbit: 'yes', workFolder: 'complete' }, 'wipe (exit 0)'],
  ['marker and databases there, RabbitMQ reset', { dbs: '7', project: '1', rabbit: 'no', workFolder: 'complete' }, 'wipe (exit 0)'],
  ['MariaDB not answering', { dbs: 'down', project: 'missing', rabbit: 'no', workFolder: 'complete' }, 'error (exit 1)'],
])('%s', (_name, services, expected) => {
  expect(decide(services)).toBe(expected);
});
