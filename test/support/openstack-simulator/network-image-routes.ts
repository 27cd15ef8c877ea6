/** Neutron v2.0 (networks, ports, floating IPs) and Glance v2 (images) of the simulator. */
import { fail, type Route, type SimRequest, type SimResponse } from './sim-http';
import type { SimFloatingIp, SimulatorState } from './simulator-state';

function neutronNotFound(what: string, id: string): SimResponse {
  return fail(404, `${what} ${id} could not be found.`, 'NeutronError');
}

function filtered<T extends object>(items: T[], query: URLSearchParams, keys: string[]): T[] {
  return items.filter((item) =>
    keys.every((k) => {
      const want = query.get(k);
      return want === null || String((item as Record<string, unknown>)[k]) === want;
    }),
  );
}

/** Neutron routes over `state`. */
export function neutronRoutes(state: SimulatorState): Route[] {
  const netView = (n: { id: string; name: string; 'router:external': boolean }): Record<string, unknown> => ({
    id: n.id, name: n.name, 'router:external': n['router:external'], status: 'ACTIVE', subnets: [`${n.id}-subnet`],
  });
  const fipView = (f: SimFloatingIp): SimFloatingIp => ({ ...f });
  // Neutron allows one floating IP per fixed IP and external network: a second one is a 409
  // (seen on the testbed when a resumed launch raced a dead launcher's create).
  const fixedIpTaken = (networkId: string, portId: string, address = 'new'): SimResponse | undefined => {
    const fixed = state.ports.get(portId)?.fixed_ips[0].ip_address;
    const other = [...state.floatingIps.values()].find((f) => f.port_id === portId && f.fixed_ip_address === fixed && f.floating_network_id === networkId);
    if (!other) return undefined;
    return fail(409, `Cannot associate floating IP ${address} with port ${portId} using fixed IP ${fixed}, as that fixed IP already has a floating IP on external network ${networkId}.`, 'NeutronError');
  };
  return [
    ['GET', '/networks', (req: SimRequest) => ({
      status: 200,
      body: { networks: filtered([...state.networks.values()], req.query, ['name', 'id', 'router:external']).map(netView) },
    })],
    ['GET', '/networks/:id', (_req, p) => {
      const n = state.networks.get(p.id);
      return n ? { status: 200, body: { network: netView(n) } } : neutronNotFound('Network', p.id);
    }],
    ['GET', '/ports', (req) => ({
      status: 200,
      body: { ports: filtered([...state.ports.values()], req.query, ['device_id', 'status', 'network_id', 'id']) },
    })],
    ['DELETE', '/ports/:id', (_req, p) => {
      if (!state.ports.has(p.id)) return neutronNotFound('Port', p.id);
      state.ports.delete(p.id);
      return { status: 204 };
    }],
    ['GET', '/floatingips', (req) => ({
      status: 200,
      body: { floatingips: filtered([...state.floatingIps.values()], req.query, ['port_id', 'floating_ip_address', 'id']).map(fipView) },
    })],
    ['GET', '/floatingips/:id', (_req, p) => {
      const f = state.floatingIps.get(p.id);
      return f ? { status: 200, body: { floatingip: fipView(f) } } : neutronNotFound('Floating IP', p.id);
    }],
    ['POST', '/floatingips', (req) => {
      const body = (req.body.floatingip ?? {}) as { floating_network_id?: string; port_id?: string };
      const net = body.floating_network_id ? state.networks.get(body.floating_network_id) : undefined;
      if (!net || !net['router:external']) return fail(400, 'Bad floatingip request: network is not external.', 'NeutronError');
      if (body.port_id && !state.ports.has(body.port_id)) return neutronNotFound('Port', body.port_id);
      if (body.port_id) state.beforeFloatingIpCreate?.(body.port_id);
      const taken = body.port_id ? fixedIpTaken(net.id, body.port_id) : undefined;
      if (taken) return taken;
      return { status: 201, body: { floatingip: fipView(state.addFloatingIp(net.id, body.port_id ?? null)) } };
    }],
    ['PUT', '/floatingips/:id', (req, p) => {
      const f = state.floatingIps.get(p.id);
      if (!f) return neutronNotFound('Floating IP', p.id);
      const portId = ((req.body.floatingip ?? {}) as { port_id?: string | null }).port_id ?? null;
      const port = portId ? state.ports.get(portId) : undefined;
      if (portId && !port) return neutronNotFound('Port', portId);
      const taken = portId && f.port_id !== portId ? fixedIpTaken(f.floating_network_id, portId, f.floating_ip_address) : undefined;
      if (taken) return taken;
      Object.assign(f, { port_id: portId, fixed_ip_address: port?.fixed_ips[0].ip_address ?? null, status: port ? state.boundFloatingIpStatus : 'DOWN' });
      return { status: 200, body: { floatingip: fipView(f) } };
    }],
    ['DELETE', '/floatingips/:id', (_req, p) => {
      if (!state.floatingIps.delete(p.id)) return neutronNotFound('Floating IP', p.id);
      return { status: 204 };
    }],
  ];
}

/** Glance routes over `state`; pages of `pageSize` with a relative `next` link, as Glance does. */
export function glanceRoutes(state: SimulatorState, pageSize: number): Route[] {
  return [
    ['GET', '/images', (req) => {
      const marker = req.query.get('marker');
      const start = marker ? state.images.findIndex((i) => i.id === marker) + 1 : 0;
      const size = Math.min(Number(req.query.get('limit') ?? pageSize), pageSize);
      const page = state.images.slice(start, start + size);
      const body: Record<string, unknown> = { images: page, first: '/v2/images' };
      if (start + size < state.images.length) body.next = `/v2/images?limit=${size}&marker=${page[page.length - 1].id}`;
      return { status: 200, body };
    }],
  ];
}

/** Cinder v3 routes (limits, volumes) over `state`. */
export function cinderRoutes(state: SimulatorState): Route[] {
  return [
    ['GET', '/limits', () => ({
      status: 200,
      body: { limits: { rate: [], absolute: { maxTotalVolumes: state.volumeQuota.volumes, maxTotalVolumeGigabytes: state.volumeQuota.gigabytes } } },
    })],
    ['GET', '/volumes/detail', () => ({
      status: 200,
      body: { volumes: [...state.volumes.values()].map((v) => ({ id: v.id, size: v.size, status: v.serverId ? 'in-use' : 'available' })) },
    })],
  ];
}
