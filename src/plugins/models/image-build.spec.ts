import { parseImageBuild, parseImageUpload } from './image-build';
import { ModelError } from './model-error';

const buf = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('image records', () => {
  it('reads the builder\'s ImageBuild and ImageUpload bodies', () => {
    expect(parseImageBuild('/b', buf({ state: 'ready', state_time: 1.5, builder: 'bh', builder_id: 'x', formats: 'qcow2', username: 'zuul' })))
      .toEqual({ state: 'ready', state_time: 1.5, builder: 'bh', formats: 'qcow2' });
    expect(parseImageUpload('/u', buf({ state: 'uploading', state_time: 2, format: 'qcow2' })))
      .toEqual({ state: 'uploading', state_time: 2, external_id: null, external_name: null });
  });

  it.each([
    ['bad JSON', '{"state": '],
    ['empty body', ''],
    ['unknown state', { state: 'weird', state_time: 1 }],
    ['missing state', { state_time: 1 }],
    ['missing state_time', { state: 'ready' }],
  ])('refuses %s with the znode path', (_name, body) => {
    expect(() => parseImageUpload('/nodepool/images/i/builds/b/providers/p/images/0000000001', buf(body))).toThrow(ModelError);
    expect(() => parseImageBuild('/nodepool/images/i/builds/b', buf(body))).toThrow(/^\/nodepool\/images\/i\/builds\/b: /);
  });
});
