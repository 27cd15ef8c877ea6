// The SDK's driver conformance suite, run through the real launcher: the launcher process loads
// this folder as a plugin (package.json "nodepool-ts" manifest, entry dist/src/index.js).
//   NODEPOOL_TS_TEST_ZK=127.0.0.1:2181 NODEPOOL_TS_HOME=/path/to/nodepool-ts npm test
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runDriverConformance } from '@nodepool-ts/sdk/testing';
import { LocalCloud } from '../src/local-cloud';

const zookeeper = process.env.NODEPOOL_TS_TEST_ZK;
if (!zookeeper) throw new Error('set NODEPOOL_TS_TEST_ZK=host:port: the conformance suite needs a ZooKeeper');

// Compiled to dist/test: the plugin folder is two levels up.
const pluginDir = path.resolve(__dirname, '../..');

runDriverConformance(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-cloud-'));
  const cloud = new LocalCloud(dir);
  return {
    // Two providers on one cloud folder: `local-broken` has a short launch-timeout for the timeout
    // test without making the normal launches of `local` race a short timer on a busy machine.
    providers: [
      {
        name: 'local',
        driver: 'local',
        'state-dir': dir,
        pools: [
          { name: 'main', labels: [{ name: 'local-small' }] },
          { name: 'one', 'max-servers': 1, labels: [{ name: 'local-one' }] },
        ],
      },
      {
        name: 'local-broken',
        driver: 'local',
        'state-dir': dir,
        'launch-timeout': 2,
        'launch-retries': 1,
        pools: [{ name: 'main', labels: [{ name: 'local-broken', 'never-boots': true }] }],
      },
    ],
    labels: { launch: 'local-small', quota: 'local-one', timeout: 'local-broken' },
    listInstances: async () => cloud.list().map((i) => i.id),
    // Tagged like the launcher tags its instances, for a node id that does not exist.
    createLeakedInstance: async () => cloud.create('local-small', {
      nodepool_provider_name: 'local', nodepool_pool_name: 'main', nodepool_node_id: '0999999999',
    }).id,
    dispose: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}, { zookeeper, plugins: [pluginDir], name: 'local driver conformance' });
