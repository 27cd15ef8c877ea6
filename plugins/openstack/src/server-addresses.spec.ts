import { pickFlavor } from './cloud-resources';
import { errorMessageOf, isQuotaAnswer } from './http-transport';
import type { Flavor, Server } from './openstack-client';
import { resourceOf } from './openstack-provider';
import { needsFloatingIp, serverIps } from './server-addresses';

const server = (addresses: Server['addresses'], extra: Partial<Server> = {}): Server => ({ id: 'x', name: 'np1', status: 'ACTIVE', addresses, ...extra });

describe('serverIps', () => {
  it('private fixed address only: needs a floating IP; interface falls back to private', () => {
    const ips = serverIps(server({ priv: [{ addr: '10.0.0.5', version: 4, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16' }] }));
    expect(ips).toEqual({ publicIpv4: null, privateIpv4: '10.0.0.5', publicIpv6: null, interfaceIp: '10.0.0.5', fixedIpv4: { addr: '10.0.0.5', mac: 'fa:16' }, floating: [] });
    expect(needsFloatingIp(ips)).toBe(true);
  });

  it('floating address is public and the interface IP', () => {
    const ips = serverIps(server({ priv: [
      { addr: '10.0.0.5', version: 4, 'OS-EXT-IPS:type': 'fixed' },
      { addr: '198.51.100.7', version: 4, 'OS-EXT-IPS:type': 'floating' },
      { addr: '2001:db8::5', version: 6, 'OS-EXT-IPS:type': 'fixed' },
    ] }));
    expect(ips).toMatchObject({ publicIpv4: '198.51.100.7', privateIpv4: '10.0.0.5', publicIpv6: '2001:db8::5', interfaceIp: '198.51.100.7', floating: ['198.51.100.7'] });
    expect(needsFloatingIp(ips)).toBe(false);
  });

  it('interface IP: the default_interface network, else private on a private cloud', () => {
    const srv = server({
      a: [{ addr: '10.0.0.5', version: 4, 'OS-EXT-IPS:type': 'fixed' }, { addr: '198.51.100.7', version: 4, 'OS-EXT-IPS:type': 'floating' }],
      b: [{ addr: '192.168.1.9', version: 4, 'OS-EXT-IPS:type': 'fixed' }],
    });
    expect(serverIps(srv).interfaceIp).toBe('198.51.100.7');
    expect(serverIps(srv, 'b').interfaceIp).toBe('192.168.1.9');
    expect(serverIps(srv, null, true).interfaceIp).toBe('10.0.0.5');
  });

  it('clouds.yaml networks: routes_externally makes a fixed address public (no floating IP), nat_destination picks the one to NAT', () => {
    const nets = { external4: ['corp'], external6: [], internal4: ['a', 'b'], natDestination: 'b', natSource: null, defaultInterface: null };
    const srv = server({
      a: [{ addr: '10.0.0.5', version: 4, 'OS-EXT-IPS:type': 'fixed' }],
      b: [{ addr: '10.1.0.7', version: 4, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:b' }],
    });
    const ips = serverIps(srv, null, false, nets);
    expect(ips).toMatchObject({ publicIpv4: null, privateIpv4: '10.0.0.5', fixedIpv4: { addr: '10.1.0.7', mac: 'fa:b' } });
    const routed = serverIps(server({ corp: [{ addr: '10.9.0.3', version: 4, 'OS-EXT-IPS:type': 'fixed' }] }), null, false, nets);
    expect(routed).toMatchObject({ publicIpv4: '10.9.0.3', interfaceIp: '10.9.0.3' });
    expect(needsFloatingIp(routed)).toBe(false);
    // Without the network config the same server would want a floating IP.
    expect(needsFloatingIp(serverIps(server({ corp: [{ addr: '10.9.0.3', version: 4, 'OS-EXT-IPS:type': 'fixed' }] })))).toBe(true);
  });

  it('a public fixed address needs no floating IP; private falls back to it', () => {
    const ips = serverIps(server({ public: [{ addr: '203.0.113.9', version: 4 }] }));
    expect(ips).toMatchObject({ publicIpv4: '203.0.113.9', privateIpv4: '203.0.113.9', interfaceIp: '203.0.113.9' });
    expect(needsFloatingIp(ips)).toBe(false);
  });
});

describe('pickFlavor (sorted by ram, name)', () => {
  const flavors: Flavor[] = [
    { id: '1', name: 'm1.tiny', ram: 512, vcpus: 1 },
    { id: '2', name: 'm1.small', ram: 2048, vcpus: 1 },
    { id: '9', name: 'gpu.small', ram: 2048, vcpus: 2 },
    { id: '4', name: 'm1.large', ram: 8192, vcpus: 4 },
  ].sort((a, b) => a.ram - b.ram || a.name.localeCompare(b.name));
  it('min-ram picks the smallest fitting flavor, filtered by flavor-name substring', () => {
    expect(pickFlavor(flavors, 1024, undefined)?.name).toBe('gpu.small');
    expect(pickFlavor(flavors, 1024, 'm1')?.name).toBe('m1.small');
    expect(pickFlavor(flavors, 99999, undefined)).toBeUndefined();
  });
  it('without min-ram the name or id must match exactly', () => {
    expect(pickFlavor(flavors, undefined, 'm1.large')?.id).toBe('4');
    expect(pickFlavor(flavors, undefined, '1')?.name).toBe('m1.tiny');
    expect(pickFlavor(flavors, undefined, 'm1')).toBeUndefined();
  });
});

describe('error answers', () => {
  it('reads the message of Nova, Neutron and Keystone bodies', () => {
    expect(errorMessageOf('{"forbidden": {"message": "Quota exceeded for instances", "code": 403}}')).toBe('Quota exceeded for instances');
    expect(errorMessageOf('{"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: [\'port\']."}}')).toContain('Quota exceeded');
    expect(errorMessageOf('<html>bad gateway</html>')).toBe('<html>bad gateway</html>');
  });
  it('classifies over-limit answers as quota, not policy refusals', () => {
    expect(isQuotaAnswer(403, 'Quota exceeded for cores: Requested 4, but already used 18 of 20 cores')).toBe(true);
    expect(isQuotaAnswer(413, 'Over limit')).toBe(true);
    expect(isQuotaAnswer(409, "Quota exceeded for resources: ['floatingip'].")).toBe(true);
    expect(isQuotaAnswer(403, 'Policy does not allow os_compute_api:servers:create to be performed.')).toBe(false);
    expect(isQuotaAnswer(500, 'quota exceeded')).toBe(false);
  });
});

describe('resourceOf (metric label)', () => {
  it('names the resource after the API version, never an id', () => {
    expect(resourceOf('/compute/v2.1/servers/0b6a1c3e-1111-2222-3333-444455556666/action')).toBe('servers');
    expect(resourceOf('/v2.1/servers/detail')).toBe('servers');
    expect(resourceOf('/v3/auth/tokens')).toBe('auth');
    expect(resourceOf('/v2.0/floatingips/0b6a1c3e-1111-2222-3333-444455556666')).toBe('floatingips');
    expect(resourceOf('/volume/v3/941f537f4d654629b825ea2398862b61/limits')).toBe('limits');
    expect(resourceOf('/')).toBe('root');
  });
});
