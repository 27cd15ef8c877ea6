/**
 * Nova v2.1 as the simulator serves it: servers that go BUILD → ACTIVE (or ERROR on demand) after
 * a delay, deletes that pass through DELETED, flavors, limits with an enforced quota (403
 * "Quota exceeded"), AZs and console output. Answers like Nova without a microversion.
 */
import { randomUUID } from 'node:crypto';
import { fail, notFound, type Route, type SimRequest, type SimResponse } from './sim-http';
import type { SimServer, SimulatorState } from './simulator-state';

/** Timing knobs of the simulated Nova. */
export interface NovaTiming {
  /** BUILD → ACTIVE/ERROR after this many ms. */
  buildMs: number;
  /** DELETED → gone after this many ms. */
  deleteMs: number;
  /** Page size of `/servers/detail`. */
  pageSize: number;
  /** Base URL put in pagination links instead of the real one (an internal host name). */
  linkHost?: string;
}

function view(state: SimulatorState, s: SimServer, base: string): Record<string, unknown> {
  return {
    id: s.id, name: s.name, status: s.status, metadata: s.metadata, hostId: s.hostId,
    addresses: state.addresses(s), accessIPv4: '', accessIPv6: '',
    flavor: { id: s.flavorId, links: [{ rel: 'bookmark', href: `${base}/compute/flavors/${s.flavorId}` }] },
    image: { id: s.imageId }, key_name: s.keyName, 'OS-EXT-AZ:availability_zone': s.az,
    'os-extended-volumes:volumes_attached': [...state.volumes.values()].filter((v) => v.serverId === s.id).map((v) => ({ id: v.id })), created: new Date(s.created).toISOString(),
    ...(s.fault ? { fault: { message: s.fault, code: 500 } } : {}),
  };
}

function quotaCheck(state: SimulatorState, flavor: { vcpus: number; ram: number }): SimResponse | null {
  const used = state.usage();
  const q = state.quota;
  const over = (what: string, req: number, use: number, max: number): SimResponse | null =>
    max >= 0 && use + req > max ? fail(403, `Quota exceeded for ${what}: Requested ${req}, but already used ${use} of ${max} ${what}`, 'forbidden') : null;
  return over('instances', 1, used.instances, q.instances) ?? over('cores', flavor.vcpus, used.cores, q.cores) ?? over('ram', flavor.ram, used.ram, q.ram);
}

/** Nova routes over `state`. */
export function novaRoutes(state: SimulatorState, timing: NovaTiming): Route[] {
  const get = (id: string): SimServer | undefined => {
    const s = state.servers.get(id);
    return s && s.status !== 'DELETED' ? s : undefined;
  };

  const create = (req: SimRequest): SimResponse => {
    const body = (req.body.server ?? {}) as Record<string, unknown>;
    const flavor = state.flavors.find((f) => f.id === body.flavorRef || f.name === body.flavorRef);
    if (!flavor) return fail(400, `Flavor ${String(body.flavorRef)} could not be found.`, 'badRequest');
    const bootVolume = ((body.block_device_mapping_v2 ?? []) as { uuid?: string }[])[0];
    const image = state.images.find((i) => i.id === (body.imageRef || bootVolume?.uuid));
    if (!image) return fail(400, `Can not find requested image`, 'badRequest');
    if (typeof body.name !== 'string' || body.name.length === 0) return fail(400, 'Invalid input for field/attribute name.', 'badRequest');
    const metadata = (body.metadata ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string' || k.length > 255 || v.length > 255) return fail(400, `Invalid input for field/attribute metadata.`, 'badRequest');
    }
    let networkIds: string[];
    if (Array.isArray(body.networks)) {
      networkIds = [];
      for (const n of body.networks as { uuid?: string }[]) {
        if (!n.uuid || !state.networks.has(n.uuid)) return fail(400, `Network ${String(n.uuid)} could not be found.`, 'badRequest');
        networkIds.push(n.uuid);
      }
    } else {
      networkIds = [state.network('private').id];
    }
    const quota = quotaCheck(state, flavor);
    if (quota) return quota;
    const server: SimServer = {
      id: randomUUID(), name: body.name, status: 'BUILD', flavorId: flavor.id, imageId: image.id,
      metadata: metadata as Record<string, string>, az: (body.availability_zone as string | undefined) ?? 'nova',
      hostId: randomUUID().replace(/-/g, ''), keyName: (body.key_name as string | undefined) ?? null,
      userData: (body.user_data as string | undefined) ?? null,
      securityGroups: ((body.security_groups as { name: string }[] | undefined) ?? []).map((g) => g.name),
      networkIds, fault: null, created: Date.now(), request: body,
    };
    state.servers.set(server.id, server);
    for (const bdm of (body.block_device_mapping_v2 as { destination_type?: string; volume_size?: string; delete_on_termination?: boolean }[] | undefined) ?? []) {
      if (bdm.destination_type !== 'volume') continue;
      const id = randomUUID();
      state.volumes.set(id, { id, size: Number(bdm.volume_size ?? 1), serverId: server.id, deleteOnTermination: bdm.delete_on_termination === true });
    }
    const error = state.errorQueue.shift();
    if (state.hangNext > 0) {
      state.hangNext--;
    } else {
      setTimeout(() => {
        if (server.status !== 'BUILD') return;
        if (error !== undefined) {
          server.status = 'ERROR';
          server.fault = error;
          return;
        }
        for (const net of networkIds) state.addPort(net, server.id, `compute:${server.az}`);
        server.status = 'ACTIVE';
      }, timing.buildMs).unref();
    }
    return { status: 202, body: { server: { id: server.id, links: [], adminPass: 'not-used', security_groups: [] } } };
  };

  const list = (req: SimRequest): SimResponse => {
    const all = state.liveServers().concat([...state.servers.values()].filter((s) => s.status === 'DELETED'));
    all.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
    const marker = req.query.get('marker');
    const limit = Math.min(Number(req.query.get('limit') ?? timing.pageSize), timing.pageSize);
    const start = marker ? all.findIndex((s) => s.id === marker) + 1 : 0;
    const page = all.slice(start, start + limit);
    const body: Record<string, unknown> = { servers: page.map((s) => view(state, s, req.base)) };
    if (page.length === limit && start + limit < all.length) {
      // Like many clouds behind a proxy, the link names an internal host (clients must not use it).
      const linkBase = timing.linkHost ?? req.base;
      body.servers_links = [{ rel: 'next', href: `${linkBase}/compute/v2.1/servers/detail?limit=${limit}&marker=${page[page.length - 1].id}` }];
    }
    return { status: 200, body };
  };

  const remove = (_req: SimRequest, p: Record<string, string>): SimResponse => {
    const s = get(p.id);
    if (!s) return notFound(`Instance ${p.id}`);
    s.status = 'DELETED';
    setTimeout(() => state.purgeServer(s.id), timing.deleteMs).unref();
    return { status: 204 };
  };

  return [
    ['GET', '/', () => ({ status: 200, body: { version: { id: 'v2.1', status: 'CURRENT', min_version: '2.1', version: '2.95' } } })],
    ['POST', '/servers', create],
    ['GET', '/servers/detail', list],
    ['GET', '/servers/:id', (req, p) => {
      const s = get(p.id);
      return s ? { status: 200, body: { server: view(state, s, req.base) } } : notFound(`Instance ${p.id}`);
    }],
    ['DELETE', '/servers/:id', remove],
    ['POST', '/servers/:id/action', (req, p) => {
      const s = get(p.id);
      if (!s) return notFound(`Instance ${p.id}`);
      return 'os-getConsoleOutput' in req.body ? { status: 200, body: { output: `console of ${s.name}\n` } } : fail(400, 'unsupported action', 'badRequest');
    }],
    ['GET', '/flavors/detail', () => ({ status: 200, body: { flavors: state.flavors.map((f) => ({ ...f, links: [] })) } })],
    ['GET', '/limits', () => {
      const u = state.usage();
      const q = state.quota;
      return {
        status: 200,
        body: { limits: { rate: [], absolute: {
          maxTotalInstances: q.instances, maxTotalCores: q.cores, maxTotalRAMSize: q.ram,
          totalInstancesUsed: u.instances, totalCoresUsed: u.cores, totalRAMUsed: u.ram,
        } } },
      };
    }],
    ['GET', '/os-availability-zone', () => ({
      status: 200,
      body: { availabilityZoneInfo: state.availabilityZones.map((zoneName) => ({ zoneName, zoneState: { available: true }, hosts: null })) },
    })],
  ];
}
