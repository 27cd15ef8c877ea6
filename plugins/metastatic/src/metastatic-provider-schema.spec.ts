import { parseConfigYaml, validateProviderSection, type NodepoolConfig, type ProviderConfig } from '@nodepool-ts/sdk';
import {
  metastaticCrossCheck, metastaticPoolLabelConfigs, metastaticPoolLabels, metastaticProviderSchema,
} from './metastatic-provider-schema';

const driver = { name: 'metastatic', providerSchema: metastaticProviderSchema, poolLabels: metastaticPoolLabels };

function load(text: string): ReturnType<typeof validateProviderSection> {
  return validateProviderSection(driver, parseConfigYaml(text, 'nodepool.yaml'), 0, 'nodepool.yaml');
}
const issues = (text: string): string[] => load(text).issues.map((i) => `${i.path}: ${i.message}`);

function configOf(provider: ProviderConfig): NodepoolConfig {
  return {
    file: 'nodepool.yaml', secureFile: null, labels: new Map(), diskimages: new Map(), tenantLimits: new Map(),
    providers: new Map([[provider.name, provider]]), maxHoldAge: Infinity,
    webapp: { port: 8005, listenAddress: '0.0.0.0' }, zookeeperServers: [], zookeeperTls: null, zookeeperTimeout: 10,
  };
}

// Modelled on Nodepool's tests/fixtures/metastatic.yaml.
const GOOD = `
name: meta-provider
driver: metastatic
pools:
  - name: main
    max-servers: 10
    priority: 1
    node-attributes:
      metaattr: meta
    host-key-checking: true
    labels:
      - name: user-label
        backing-label: backing-label
        max-parallel-jobs: 2
        grace-time: 2
      - name: user-label-min-retention
        backing-label: backing-label-min-retention
        grace-time: 2
        min-retention-time: 300
        host-key-checking: false
      - name: user-label-max-age
        backing-label: backing-label-max-age
        max-age: 300
`;

describe('metastatic provider schema', () => {
  it('accepts the documented keys and fills Nodepool code defaults', () => {
    const { config, issues: found } = load(GOOD);
    expect(found).toEqual([]);
    expect(config!.raw).toMatchObject({ 'boot-timeout': 120, 'launch-timeout': 3600, 'launch-retries': 3 });
    expect(config!.pools[0]).toMatchObject({ maxServers: 10, priority: 1, nodeAttributes: { metaattr: 'meta' } });
    expect(config!.pools[0].labels).toEqual(['user-label', 'user-label-min-retention', 'user-label-max-age']);
    expect(metastaticPoolLabelConfigs(config!.pools[0].raw)).toEqual([
      { name: 'user-label', 'backing-label': 'backing-label', 'max-parallel-jobs': 2, 'grace-time': 2, 'min-retention-time': 0, 'max-age': null, 'host-key-checking': true },
      { name: 'user-label-min-retention', 'backing-label': 'backing-label-min-retention', 'max-parallel-jobs': 1, 'grace-time': 2, 'min-retention-time': 300, 'max-age': null, 'host-key-checking': false },
      { name: 'user-label-max-age', 'backing-label': 'backing-label-max-age', 'max-parallel-jobs': 1, 'grace-time': 60, 'min-retention-time': 0, 'max-age': 300, 'host-key-checking': true },
    ]);
  });

  it('defaults pool host-key-checking to false', () => {
    const { config } = load('name: m\ndriver: metastatic\npools:\n  - name: p\n    labels:\n      - {name: a, backing-label: b}\n');
    expect(metastaticPoolLabelConfigs(config!.pools[0].raw)[0]['host-key-checking']).toBe(false);
  });

  it('rejects rate and requires pools, labels and backing-label', () => {
    expect(issues('name: m\ndriver: metastatic\nrate: 1\n')).toEqual([
      'providers[0].rate: extra keys not allowed',
      'providers[0].pools: required key not provided',
    ]);
    expect(issues('name: m\npools:\n  - name: p\n  - name: q\n    labels:\n      - {name: a}\n')).toEqual([
      'providers[0].pools[0].labels: required key not provided',
      'providers[0].pools[1].labels[0].backing-label: required key not provided',
    ]);
  });

  it('cross-check: labels sharing a backing label must agree; max-age >= min-retention-time', () => {
    const { config } = load(`
name: meta
pools:
  - name: p1
    labels:
      - {name: a, backing-label: b, max-parallel-jobs: 2}
      - {name: c, backing-label: b, max-parallel-jobs: 2}
  - name: p2
    labels:
      - {name: d, backing-label: b, max-parallel-jobs: 3}
      - {name: e, backing-label: f, min-retention-time: 600, max-age: 300}
`);
    expect(metastaticCrossCheck(config!, configOf(config!))).toEqual([
      'pools[1].labels[0].backing-label: Multiple label definitions for the same backing label must be identical ' +
        '(max-parallel-jobs, grace-time, min-retention-time, max-age of label d differ from label a at pools[0].labels[0])',
      'pools[1].labels[1].max-age: The max_age must be greater than or equal to the min_retention_time',
    ]);
    const good = load(GOOD).config!;
    expect(metastaticCrossCheck(good, configOf(good))).toEqual([]);
  });
});
