/**
 * A kernel with the WebApp as its only core service, on a real ZooKeeper, for the web tests.
 * cacheTtlMs 0: every request shows the caches as they are, so watch tests need not wait 1 s.
 */
import { Kernel } from '../../src/kernel/kernel';
import { WebApp } from '../../src/web/web-app';
import { testSettings } from './test-settings';
import type { ZooKeeperServer } from './zookeeper-server';

/** The started kernel, its web app and the app's base URL. */
export interface WebKernel {
  kernel: Kernel;
  web: WebApp;
  base: string;
}

/** Creates and starts the kernel; stop it with `kernel.stop()`. */
export async function startWebKernel(server: ZooKeeperServer): Promise<WebKernel> {
  let web: WebApp | undefined;
  const kernel = await Kernel.create({
    settings: testSettings(),
    zookeeper: { hosts: server.connectString, sessionTimeout: 10000 },
    coreServices: (c) => [(web = new WebApp(c, { listen: { host: '127.0.0.1', port: 0 }, cacheTtlMs: 0 }))],
  });
  await kernel.start();
  if (!web) throw new Error('the kernel did not create the web app');
  return { kernel, web, base: `http://127.0.0.1:${web.address()?.port}` };
}
