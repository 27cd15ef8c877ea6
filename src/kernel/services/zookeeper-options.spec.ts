import { testSettings } from '../../../test/support/test-settings';
import { resolveZooKeeperOptions } from './zookeeper-options';

const fromYaml = {
  zookeeperServers: [
    { host: 'zk1.example.org', port: 2281, chroot: '/nodepool' },
    { host: '2001:db8::1', port: 2281, chroot: null },
  ],
  zookeeperTls: { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem' },
  zookeeperTimeout: 30,
};

describe('resolveZooKeeperOptions', () => {
  it('takes servers, chroot, TLS and timeout from nodepool.yaml when the settings leave them empty', () => {
    expect(resolveZooKeeperOptions(testSettings({ zookeeper: { sessionTimeout: 0 } }), fromYaml)).toEqual({
      hosts: 'zk1.example.org:2281,[2001:db8::1]:2281',
      chroot: '/nodepool',
      tls: { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem' },
      sessionTimeout: 30000,
    });
  });

  it('lets launcher settings win', () => {
    const settings = testSettings({ zookeeper: { hosts: '127.0.0.1:2181', chroot: '/x', sessionTimeout: 5, tls: { cert: 'a', key: 'b', ca: 'c' } } });
    expect(resolveZooKeeperOptions(settings, fromYaml)).toEqual({ hosts: '127.0.0.1:2181', chroot: '/x', tls: { cert: 'a', key: 'b', ca: 'c' }, sessionTimeout: 5000 });
  });

  it('is undefined when nothing names a server, and defaults the timeout to 10 s', () => {
    expect(resolveZooKeeperOptions(testSettings(), { zookeeperServers: [], zookeeperTls: null, zookeeperTimeout: 0 })).toBeUndefined();
    expect(resolveZooKeeperOptions(testSettings({ zookeeper: { hosts: 'h:1', sessionTimeout: 0 } }))?.sessionTimeout).toBe(10000);
  });
});
