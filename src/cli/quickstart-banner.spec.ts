import path from 'node:path';
import { quickstartNextSteps } from './quickstart-banner';

const ROOT = path.resolve(__dirname, '../..');

describe('quickstart next steps', () => {
  it('prints the request command ready to paste, the dashboard URL and how to stop', () => {
    const text = quickstartNextSteps({
      config: path.join(ROOT, 'config/quickstart.yaml'), zkHosts: '127.0.0.1:40123', zkChroot: '', label: 'small',
      web: { host: '127.0.0.1', port: 8005 }, localZooKeeper: true, cwd: ROOT,
    });
    expect(text).toContain('\n    NODEPOOL_TS_ZK_HOSTS=127.0.0.1:40123 bin/nodepool -c config/quickstart.yaml request small --wait\n');
    expect(text).toContain('\n  Dashboard: http://127.0.0.1:8005/\n');
    expect(text).toContain('\n  Stop: Ctrl-C here (stops the local ZooKeeper too).\n');
  });

  it('uses absolute paths elsewhere, quotes what the shell would split, and a reachable host for wildcard binds', () => {
    const text = quickstartNextSteps({
      config: '/etc/my pool/nodepool.yaml', zkHosts: 'zk1:2181,zk2:2181', zkChroot: '/np', label: 'big one',
      web: { host: '0.0.0.0', port: 9000 }, localZooKeeper: false, cwd: '/tmp',
    });
    expect(text).toContain(`NODEPOOL_TS_ZK_HOSTS=zk1:2181,zk2:2181 NODEPOOL_TS_ZK_CHROOT=/np ${path.join(ROOT, 'bin/nodepool')} -c '/etc/my pool/nodepool.yaml' request 'big one' --wait\n`);
    expect(text).toContain('Dashboard: http://127.0.0.1:9000/\n');
    expect(text).toContain('  Stop: Ctrl-C here.\n');
  });
});
