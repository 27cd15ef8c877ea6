import { parseConfigYaml, validateProviderSection, type NodepoolConfig, type ProviderConfig } from '@nodepool-ts/sdk';
import { staticCrossCheck, staticPoolLabels, staticPoolNodes, staticProviderSchema } from './static-provider-schema';

const driver = { name: 'static', providerSchema: staticProviderSchema, poolLabels: staticPoolLabels };

function load(text: string, index = 0): ReturnType<typeof validateProviderSection> {
  return validateProviderSection(driver, parseConfigYaml(text, 'nodepool.yaml'), index, 'nodepool.yaml');
}
const issues = (text: string): string[] => load(text).issues.map((i) => `${i.path}: ${i.message}`);

function configOf(...providers: ProviderConfig[]): NodepoolConfig {
  return {
    file: 'nodepool.yaml', secureFile: null, labels: new Map(), diskimages: new Map(), tenantLimits: new Map(),
    providers: new Map(providers.map((p) => [p.name, p])), maxHoldAge: Infinity,
    webapp: { port: 8005, listenAddress: '0.0.0.0' }, zookeeperServers: [], zookeeperTls: null, zookeeperTimeout: 10,
  };
}

// Modelled on Nodepool's doc/source/static.rst example and tests/fixtures/static-*.yaml.
const GOOD = `
name: static-rack
driver: static
pools:
  - name: main
    max-servers: 4
    node-attributes:
      rack: a
    nodes:
      - name: trusty.example.com
        labels: trusty-static
        timeout: 13
        connection-port: 22022
        host-key: "ssh-rsa AAAAB3NzaC1"
        username: zuul
        max-parallel-jobs: 2
      - name: windows.example.com
        labels: [windows-static, windows-big]
        connection-type: winrm
        host-key-checking: false
`;

describe('static provider schema', () => {
  it('accepts the documented keys and fills Nodepool code defaults', () => {
    const { config, issues: found } = load(GOOD);
    expect(found).toEqual([]);
    expect(config!.pools[0]).toMatchObject({ name: 'main', maxServers: 4, nodeAttributes: { rack: 'a' }, labels: ['trusty-static', 'windows-static', 'windows-big'] });
    expect(staticPoolNodes(config!.pools[0].raw)).toEqual([
      {
        name: 'trusty.example.com', labels: ['trusty-static'], username: 'zuul', timeout: 13, 'host-key-checking': true,
        'host-key': ['ssh-rsa AAAAB3NzaC1'], 'connection-type': 'ssh', 'connection-port': 22022, 'shell-type': null,
        'python-path': 'auto', 'max-parallel-jobs': 2,
      },
      {
        name: 'windows.example.com', labels: ['windows-static', 'windows-big'], username: 'zuul', timeout: 5,
        'host-key-checking': false, 'host-key': [], 'connection-type': 'winrm',
        // 22 even for winrm: Nodepool's code does not switch to 5986 (its docs say it does).
        'connection-port': 22, 'shell-type': null, 'python-path': 'auto', 'max-parallel-jobs': 1,
      },
    ]);
  });

  it('splits a whitespace-separated label string for the pool and the node', () => {
    const { config } = load('name: s\npools:\n  - name: p\n    nodes:\n      - {name: h, labels: "a  b"}\n');
    expect(config!.pools[0].labels).toEqual(['a', 'b']);
    expect(staticPoolNodes(config!.pools[0].raw)[0].labels).toEqual(['a', 'b']);
  });

  it('takes the legacy ssh-port when connection-port is not set', () => {
    const { config } = load('name: s\npools:\n  - name: p\n    nodes:\n      - {name: h, labels: [a], ssh-port: 2022}\n      - {name: i, labels: [a], ssh-port: 2022, connection-port: 2200}\n');
    expect(staticPoolNodes(config!.pools[0].raw).map((n) => n['connection-port'])).toEqual([2022, 2200]);
    expect(staticPoolNodes(config!.pools[0].raw)[0]).not.toHaveProperty('ssh-port');
  });

  it('is strict: a cloud key on a static provider fails (static_error.yaml)', () => {
    expect(issues('name: static-provider\ndriver: static\ncloud: fake\npools:\n  - name: main\n    nodes: []\n')).toEqual([
      'providers[0].cloud: extra keys not allowed',
    ]);
  });

  it('reports node errors with their key paths', () => {
    expect(issues('name: s\npools:\n  - name: p\n    nodes:\n      - name: h\n        timeout: soon\n      - labels: [a]\n        bogus: 1\n')).toEqual([
      'providers[0].pools[0].nodes[0].timeout: expected int, got str "soon"',
      'providers[0].pools[0].nodes[0].labels: required key not provided',
      'providers[0].pools[0].nodes[1].bogus: extra keys not allowed',
      'providers[0].pools[0].nodes[1].name: required key not provided',
    ]);
  });

  it('cross-check: a host identity (name, username, port) must be unique in the whole config', () => {
    const first = load('name: a\npools:\n  - name: p\n    nodes:\n      - {name: h1, labels: [x]}\n      - {name: h1, labels: [x], username: other}\n').config!;
    const second = load('name: b\npools:\n  - name: q\n    nodes:\n      - {name: h1, labels: [x]}\n      - {name: h2, labels: [x]}\n      - {name: h2, labels: [y]}\n', 1).config!;
    const config = configOf(first, second);
    expect(staticCrossCheck(first, config)).toEqual([]);
    expect(staticCrossCheck(second, config)).toEqual([
      'pools[0].nodes[0]: node (h1, zuul, 22) is already defined in provider a pool p',
      'pools[0].nodes[2]: node (h2, zuul, 22) is already defined in provider b pool q',
    ]);
  });
});
