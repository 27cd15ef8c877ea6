/**
 * Schema of nodepool.yaml outside the provider sections (spec drivers-config §1.2-§1.6), after
 * Nodepool's `cmd/config_validator.py`. Provider sections are only checked to be a list here;
 * each is validated against its driver's schema (see provider-loader.ts).
 */
import { s, type ObjectSchema } from '../../plugins/config-schema';

/** A top-level `labels` entry. `name` is required here; Nodepool's schema forgets it and then crashes. */
export const labelSchema: ObjectSchema = s.object({
  name: s.str().required(),
  'min-ready': s.int().default(0),
  'max-ready-age': s.int().default(0),
});

/**
 * A top-level `diskimages` entry. No defaults here: a child image inherits unset keys from its
 * parent, so defaults are filled after inheritance (diskimage-inheritance.ts).
 */
export const diskimageSchema: ObjectSchema = s
  .object({
    name: s.str().required(),
    abstract: s.bool(),
    parent: s.str(),
    'dib-cmd': s.str(),
    elements: s.list(s.str()),
    'env-vars': s.dict(s.str()),
    formats: s.list(s.str()),
    'keep-formats': s.list(s.str()),
    pause: s.bool(),
    'rebuild-age': s.int(),
    'build-timeout': s.int(),
    'python-path': s.str(),
    'shell-type': s.str(),
    release: s.anyOf(s.str(), s.int()),
    username: s.str(),
    metadata: s.dict(),
    'delete-after-upload': s.bool(),
  })
  .transform((d) => (d.release === undefined ? d : { ...d, release: String(d.release) }));

/**
 * A `zookeeper-servers` entry. The port defaults to 2281 as in Nodepool's code
 * (`config.py:180`); its docs say 2181.
 */
export const zookeeperServerSchema: ObjectSchema = s.object({
  host: s.str().required(),
  port: s.int().default(2281),
  chroot: s.str().nullable().default(null),
});

/** `zookeeper-tls`: PEM file paths, all three required as in Nodepool's validator. */
export const zookeeperTlsSchema: ObjectSchema = s.object({
  cert: s.str().required(),
  key: s.str().required(),
  ca: s.str().required(),
});

/** A `tenant-resource-limits` entry; any other key (an int) is a custom resource limit. */
export const tenantLimitSchema: ObjectSchema = s
  .object({
    'tenant-name': s.str().required(),
    'max-cores': s.int(),
    'max-ram': s.int(),
    'max-servers': s.int(),
    'max-volumes': s.int(),
    'max-volume-gb': s.int(),
  })
  .open(s.int());

/** The top level of nodepool.yaml. Strict: unknown keys are errors (Nodepool's runtime ignores them). */
export const topLevelSchema: ObjectSchema = s.object({
  'elements-dir': s.str(),
  'images-dir': s.str(),
  'images-dir-required-free-space': s.int(),
  'build-log-dir': s.str(),
  'build-log-retention': s.int().default(7),
  // `max-hold-age:` left empty means unset, as in Nodepool's runtime.
  'max-hold-age': s.int().nullable(),
  // Note the underscore in listen_address (Nodepool's spelling).
  webapp: s.object({ port: s.int().default(8005), listen_address: s.str().default('0.0.0.0') }).default({}),
  'zookeeper-servers': s.list(zookeeperServerSchema).default([]),
  'zookeeper-tls': zookeeperTlsSchema,
  // Nodepool's validator wants a YAML float (`30.0`); its runtime takes `30` too.
  'zookeeper-timeout': s.float().default(10),
  labels: s.list(labelSchema).default([]),
  diskimages: s.list(diskimageSchema).default([]),
  providers: s.list().default([]),
  'tenant-resource-limits': s.list(tenantLimitSchema).default([]),
});
