/**
 * Glue for OpenStack tests: a clouds.yaml pointing at the simulator (optionally through the
 * fault proxy), and provider sections validated with the real driver schema.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { parseConfigYaml, validateProviderSection, type Metrics, type ProviderConfig } from '../../../src/plugins';
import { openstackPoolLabels, openstackProviderSchema } from '../../../plugins/openstack/src/openstack-provider-schema';
import type { OpenStackSimulator } from './openstack-simulator';

/** Temp dirs made by {@link writeCloudsYaml} in this test file, removed after it. */
const cloudDirs: string[] = [];
if (typeof afterAll === 'function') {
  afterAll(() => {
    for (const dir of cloudDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** Writes a clouds.yaml with cloud `sim` (and `sim-appcred` when the simulator has one); returns its path. */
export function writeCloudsYaml(
  sim: OpenStackSimulator,
  options: { base?: string; appCredential?: { id: string; secret: string }; cloudExtra?: Record<string, unknown> } = {},
): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clouds-'));
  cloudDirs.push(dir);
  const auth_url = sim.authUrl(options.base);
  const clouds: Record<string, unknown> = {
    sim: {
      auth: { auth_url, username: sim.username, password: sim.password, project_name: sim.project, user_domain_name: 'Default', project_domain_name: 'Default' },
      region_name: sim.region,
      interface: 'public',
      ...options.cloudExtra,
    },
  };
  if (options.appCredential) {
    clouds['sim-appcred'] = {
      auth_type: 'v3applicationcredential',
      auth: { auth_url, application_credential_id: options.appCredential.id, application_credential_secret: options.appCredential.secret },
      region_name: sim.region,
    };
  }
  const file = path.join(dir, 'clouds.yaml');
  fs.writeFileSync(file, yaml.dump({ clouds }));
  return file;
}

/**
 * A provider section validated by the openstack schema (defaults filled), or throws with the
 * issues. `runtime`: as the launcher loads it (keys only config-validate insists on may be missing).
 */
export function openstackProviderConfig(text: string, options: { runtime?: boolean } = {}): ProviderConfig {
  const driver = { name: 'openstack', providerSchema: openstackProviderSchema, poolLabels: openstackPoolLabels };
  const parsed = parseConfigYaml(text, 'nodepool.yaml');
  const { config, issues } = validateProviderSection(driver, parsed, 0, 'nodepool.yaml', undefined, { ignoreUnknownKeys: options.runtime });
  if (!config || issues.some((i) => !(options.runtime && i.runtimeOptional))) throw new Error(`bad provider section: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return config;
}

/** A typical provider section for the simulator; `extra` is appended to the pool. */
export function simProviderYaml(options: { rate?: number; launchRetries?: number; launchTimeout?: number; poolExtra?: string; labelExtra?: string } = {}): string {
  return `
name: sim-provider
driver: openstack
cloud: sim
region-name: RegionOne
rate: ${options.rate ?? 0}
launch-retries: ${options.launchRetries ?? 3}
launch-timeout: ${options.launchTimeout ?? 30}
boot-timeout: 5
cloud-images:
  - name: ubuntu
    image-name: ubuntu-noble
    username: ubuntu
  - name: debian-by-name
pools:
  - name: main
    max-servers: 10
    networks: [private]
    ${options.poolExtra ?? ''}
    labels:
      - name: small
        cloud-image: ubuntu
        min-ram: 1024
        key-name: nodepool
        instance-properties:
          owner: ci
        dynamic-instance-properties:
          request_info: 'req-{request.id}'
          trace: '{request.event_id} {request.labels} {request.tenant_name}'
          broken: '{request.no_such_field}'
        ${options.labelExtra ?? ''}
      - name: big
        cloud-image: ubuntu
        flavor-name: m1.large
`;
}

/** One observation recorded by {@link RecordingMetrics}. */
export interface Observation {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A {@link Metrics} that records histogram observations and counter increments. */
export class RecordingMetrics implements Metrics {
  readonly observations: Observation[] = [];

  counter(name: string): ReturnType<Metrics['counter']> {
    return { inc: (labels = {}, value = 1) => this.observations.push({ name, labels, value }) };
  }

  gauge(name: string): ReturnType<Metrics['gauge']> {
    return { set: (labels, value) => this.observations.push({ name, labels, value }), reset: () => undefined };
  }

  histogram(name: string): ReturnType<Metrics['histogram']> {
    return { observe: (labels, value) => this.observations.push({ name, labels, value }) };
  }

  async render(): Promise<string> {
    return '';
  }
}
