import {
  parseConfigYaml, validateProviderSection, type DiskImageConfig, type NodepoolConfig, type ProviderConfig,
} from '@nodepool-ts/sdk';
import { unservableLabels } from './openstack-provider';
import { openstackCrossCheck, openstackPoolLabels, openstackProviderSchema } from './openstack-provider-schema';

const driver = { name: 'openstack', providerSchema: openstackProviderSchema, poolLabels: openstackPoolLabels };

function load(text: string, options: { runtime?: boolean } = {}): ReturnType<typeof validateProviderSection> {
  return validateProviderSection(driver, parseConfigYaml(text, 'nodepool.yaml'), 0, 'nodepool.yaml', undefined, { ignoreUnknownKeys: options.runtime === true });
}
const issues = (text: string): string[] => load(text).issues.map((i) => `${i.path}: ${i.message}`);

function configOf(provider: ProviderConfig, diskimages: string[]): NodepoolConfig {
  const image = (name: string): DiskImageConfig => ({ name, username: 'zuul', 'python-path': 'auto', 'shell-type': null, pause: false });
  return {
    file: 'nodepool.yaml', secureFile: null, labels: new Map(), diskimages: new Map(diskimages.map((d) => [d, image(d)])),
    tenantLimits: new Map(), providers: new Map([[provider.name, provider]]), maxHoldAge: Infinity,
    webapp: { port: 8005, listenAddress: '0.0.0.0' }, zookeeperServers: [], zookeeperTls: null, zookeeperTimeout: 10,
  };
}

// Modelled on Nodepool's tests/fixtures/config_validate/good.yaml and doc/source/openstack.rst.
const GOOD = `
name: cloud1
driver: openstack
cloud: my-cloudy-cloud
region-name: 'vanilla'
boot-timeout: 120
max-concurrency: 10
launch-retries: 3
port-cleanup-interval: 600
rate: 1
diskimages:
  - name: trusty
    pause: False
  - name: windows
    connection-type: winrm
cloud-images:
  - name: trusty-unmanaged
    config-drive: true
  - name: windows-unmanaged
    image-id: abc123
    username: Administrator
    connection-type: winrm
    connection-port: 5985
pools:
  - name: main
    max-servers: 184
    auto-floating-ip: True
    host-key-checking: True
    networks: [public, private]
    labels:
      - name: trusty
        diskimage: trusty
        min-ram: 8192
        console-log: True
      - name: trusty-2-node
        diskimage: trusty
        min-ram: 8192
        networks: [private]
        host-key-checking: false
        boot-from-volume: True
        volume-size: 100
        instance-properties:
          a_key: a_value
        dynamic-instance-properties:
          request_info: '{request.id}'
      - name: windows
        cloud-image: windows-unmanaged
        flavor-name: m1.large
        userdata: '#cloud-config'
        key-name: nodepool
`;

describe('openstack provider schema', () => {
  it('accepts the documented keys and fills Nodepool code defaults', () => {
    const { config, issues: found } = load(GOOD);
    expect(found).toEqual([]);
    const raw = config!.raw;
    expect(raw).toMatchObject({
      cloud: 'my-cloudy-cloud', 'region-name': 'vanilla', rate: 1, 'boot-timeout': 120, 'launch-timeout': 3600,
      'image-upload-timeout': 3600, 'image-name-format': '{image_name}-{timestamp}', 'clean-floating-ips': false,
    });
    expect(raw.diskimages).toEqual([
      { name: 'trusty', pause: false, meta: {}, 'config-drive': null, 'connection-type': 'ssh', 'connection-port': 22 },
      { name: 'windows', pause: false, meta: {}, 'config-drive': null, 'connection-type': 'winrm', 'connection-port': 5986 },
    ]);
    expect(raw['cloud-images']).toEqual([
      { name: 'trusty-unmanaged', 'config-drive': true, username: null, 'python-path': 'auto', 'shell-type': null, 'connection-type': 'ssh', 'connection-port': 22 },
      { name: 'windows-unmanaged', 'image-id': 'abc123', username: 'Administrator', 'python-path': 'auto', 'shell-type': null, 'config-drive': null, 'connection-type': 'winrm', 'connection-port': 5985 },
    ]);
    const pool = config!.pools[0];
    expect(pool).toMatchObject({ maxServers: 184, labels: ['trusty', 'trusty-2-node', 'windows'] });
    expect(pool.raw).toMatchObject({ 'ignore-provider-quota': false, 'availability-zones': [], 'security-groups': [] });
    const labels = pool.raw.labels as Record<string, unknown>[];
    expect(labels[0]).toEqual({
      name: 'trusty', diskimage: 'trusty', 'min-ram': 8192, 'console-log': true, 'boot-from-volume': false, 'volume-size': 50,
      'instance-properties': {}, 'dynamic-instance-properties': {}, networks: ['public', 'private'], 'host-key-checking': true,
    });
    expect(labels[1]).toMatchObject({ networks: ['private'], 'host-key-checking': false, 'volume-size': 100 });
  });

  it('requires cloud (config_validate: required key not provided @ data[cloud]); the launcher runs without it', () => {
    expect(issues('name: c\n')).toEqual(['providers[0].cloud: required key not provided']);
    const runtime = validateProviderSection(driver, parseConfigYaml('name: c\n', 'nodepool.yaml'), 0, 'nodepool.yaml', undefined, { ignoreUnknownKeys: true });
    expect(runtime.config?.name).toBe('c');
    expect(runtime.issues).toEqual([{ path: 'providers[0].cloud', message: 'required key not provided', runtimeOptional: true }]);
  });

  it('takes image-id or image-name, not both', () => {
    expect(issues('name: c\ncloud: x\ncloud-images:\n  - {name: i, image-id: a, image-name: b}\n')).toEqual([
      'providers[0].cloud-images[0]: only one of "image-id", "image-name" may be given, not "image-id" and "image-name"',
    ]);
  });

  it('wants exactly one image source and at least one flavor selector per label', () => {
    expect(issues(`
name: c
cloud: x
pools:
  - name: p
    labels:
      - {name: a, diskimage: d, cloud-image: c, min-ram: 1}
      - {name: b, flavor-name: f}
      - {name: c, diskimage: d}
`)).toEqual([
      'providers[0].pools[0].labels[0]: only one of "diskimage", "cloud-image" may be given, not "diskimage" and "cloud-image"',
      'providers[0].pools[0].labels[1]: exactly one of "diskimage", "cloud-image" is required',
      'providers[0].pools[0].labels[2]: at least one of "min-ram", "flavor-name" is required',
    ]);
  });

  it('cross-check: diskimages must exist in the main list; cloud-images in the provider', () => {
    const { config } = load(`
name: cloud1
cloud: x
diskimages:
  - name: known
  - name: not-in-main
cloud-images:
  - name: ci
pools:
  - name: main
    labels:
      - {name: a, diskimage: known, min-ram: 1}
      - {name: b, diskimage: nowhere, min-ram: 1}
      - {name: c, diskimage: main-only, min-ram: 1}
      - {name: d, cloud-image: ci, min-ram: 1}
      - {name: e, cloud-image: missing, min-ram: 1}
`);
    expect(openstackCrossCheck(config!, configOf(config!, ['known', 'main-only']))).toEqual([
      'diskimages[1].name: diskimage not-in-main in provider cloud1 is not defined in the main diskimages list',
      'pools[0].labels[1].diskimage: label b in provider cloud1 uses diskimage nowhere which is not defined in the main diskimages list',
      'pools[0].labels[4].cloud-image: cloud-image missing does not exist in provider cloud1 but is referenced in label e',
    ]);
  });

  it("warns of labels Nodepool's launcher loads but never serves: no image, or a diskimage the provider lacks", () => {
    const { config } = load(`
name: cloud1
cloud: x
diskimages:
  - name: known
pools:
  - name: main
    labels:
      - {name: a, diskimage: known, min-ram: 1}
      - {name: b, min-ram: 1}
      - {name: c, diskimage: main-only}
`, { runtime: true });
    expect(config).toBeDefined();
    expect(unservableLabels(config!)).toEqual([
      'providers cloud1 pools[0].labels[1]: label b has neither diskimage nor cloud-image: it is never ready',
      "providers cloud1 pools[0].labels[2]: label c uses diskimage main-only, which is not in the provider's diskimages: it is never ready",
    ]);
  });
});
