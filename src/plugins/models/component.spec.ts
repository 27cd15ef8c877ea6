import { loadSample } from '../../../test/support/spec-samples';
import { type ComponentRecord, parseComponent, serializeComponent } from './component';
import { ModelError } from './model-error';

const interop = loadSample<{ components: Record<string, Record<string, unknown>> }>('zk-static-interop.json');
const POOL_PATH = '/nodepool/components/pool/vm0000000000';
const LAUNCHER_PATH = '/nodepool/components/launcher/vm0000000000';

/** Keys of a pool component (spec §2.3), sorted as Python's sort_keys writes them. */
const SPEC_POOL_KEYS = [
  'hostname', 'id', 'kind', 'model_api', 'name', 'paused', 'priority', 'provider_name', 'state',
  'supported_labels', 'version',
];

function keysInOrder(data: Buffer): string[] {
  return Object.keys(JSON.parse(data.toString('utf8')) as object);
}

describe('component records', () => {
  test('the sample pool component round-trips with sorted keys', () => {
    const sample = interop.components[POOL_PATH];
    const record = parseComponent(POOL_PATH, Buffer.from(JSON.stringify(sample)));
    const data = serializeComponent(record);
    expect(keysInOrder(data)).toEqual(SPEC_POOL_KEYS);
    expect(JSON.parse(data.toString('utf8'))).toEqual(sample);
  });

  test('the sample launcher component round-trips', () => {
    const sample = interop.components[LAUNCHER_PATH];
    const data = serializeComponent(parseComponent(LAUNCHER_PATH, Buffer.from(JSON.stringify(sample))));
    expect(keysInOrder(data)).toEqual(['hostname', 'kind', 'model_api', 'state', 'version']);
    expect(JSON.parse(data.toString('utf8'))).toEqual(sample);
  });

  test('keys are sorted at every level whatever order they were set in', () => {
    const record = {
      version: '1', supported_labels: ['b', 'a'], state: 'running', provider_name: 'p', priority: 5, paused: false,
      name: 'main', model_api: 0, kind: 'pool', id: 'x', hostname: 'h', extra: { z: 1, a: 2 },
    } as ComponentRecord;
    const data = serializeComponent(record);
    expect(keysInOrder(data)).toEqual([...SPEC_POOL_KEYS, 'extra'].sort());
    expect(data.toString()).toContain('"extra":{"a":2,"z":1}');
    expect(data.toString()).toContain('"supported_labels":["b","a"]'); // lists keep their order
  });

  test('missing pool keys take the reader defaults', () => {
    const record = parseComponent(POOL_PATH, Buffer.from(JSON.stringify({ kind: 'pool', hostname: 'h', id: 'i' })));
    expect(record).toMatchObject({ priority: 100, paused: false, supported_labels: [], state: 'stopped', model_api: 0 });
  });

  test('bad bodies raise ModelError naming the path', () => {
    expect(() => parseComponent(POOL_PATH, Buffer.from('{'))).toThrow(ModelError);
    expect(() => parseComponent(POOL_PATH, Buffer.from('{'))).toThrow(POOL_PATH);
    expect(() => parseComponent(POOL_PATH, Buffer.from('{"kind": "scheduler"}'))).toThrow(/unknown component kind/);
  });
});
