/**
 * Minimal drivers for the config loader's tests (the kernel may not import the real plugins).
 * Not a spec file itself; imported by the specs of this folder.
 */
import type { ProviderDriver } from '../../plugins/driver';
import { s, type ObjectSchema } from '../../plugins/config-schema';

/** A driver with the given schema whose pools serve `pool.labels` (a list of names). */
export function testDriver(name: string, schema: ObjectSchema, crossCheck?: ProviderDriver['crossCheck']): ProviderDriver {
  return {
    name,
    providerSchema: schema,
    poolLabels: (pool) => ((pool.labels ?? []) as { name: string }[]).map((l) => l.name),
    crossCheck,
    createProvider: () => {
      throw new Error('test driver');
    },
  };
}

/** `cloud` required, pools with `labels: [{name, flavor}]`: shaped like a small openstack. */
export const cloudDriver = testDriver(
  'openstack',
  s.object({
    cloud: s.str().required(),
    rate: s.float().default(1),
    pools: s.list(s.object({ labels: s.list(s.object({ name: s.str().required(), 'flavor-name': s.str().required() })).default([]) })).default([]),
  }),
);

/** Pools with `labels: [{name}]`, and a cross check that names a relative key path. */
export const plainDriver = testDriver(
  'plain',
  s.object({ pools: s.list(s.object({ labels: s.list(s.object({ name: s.str().required() })) })).default([]) }),
  (provider) => (provider.name.startsWith('reject') ? [`pools[0].labels[0].name: rejected by the driver`, 'no path here'] : []),
);
