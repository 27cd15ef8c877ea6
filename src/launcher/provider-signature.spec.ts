import type { DiskImageConfig, ProviderConfig } from '../plugins/nodepool-config';
import { providerSignature } from './provider-signature';

function image(name: string, username = 'zuul'): DiskImageConfig {
  return { name, username, 'python-path': 'auto', 'shell-type': null, pause: false };
}

const provider = (raw: Record<string, unknown>, location = 'a.yaml: providers[0]'): ProviderConfig =>
  ({ name: 'p', driver: 'openstack', maxConcurrency: -1, priority: null, pools: [], raw, location }) as ProviderConfig;

describe('providerSignature', () => {
  const raw = { name: 'p', diskimages: [{ name: 'ubuntu' }] };

  it('changes when a top-level diskimage the provider uses changes, not for others or a move in the file', () => {
    const base = providerSignature(provider(raw), { diskimages: new Map([['ubuntu', image('ubuntu')], ['other', image('other')]]) });
    expect(providerSignature(provider(raw, 'a.yaml: providers[3]'), { diskimages: new Map([['ubuntu', image('ubuntu')], ['other', image('other', 'root')]]) })).toBe(base);
    expect(providerSignature(provider(raw), { diskimages: new Map([['ubuntu', image('ubuntu', 'root')]]) })).not.toBe(base);
  });

  it('changes with the provider section', () => {
    const images = { diskimages: new Map([['ubuntu', image('ubuntu')]]) };
    expect(providerSignature(provider({ ...raw, rate: 2 }), images)).not.toBe(providerSignature(provider(raw), images));
  });
});
