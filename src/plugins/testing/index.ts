/**
 * The SDK's test kit, `@nodepool-ts/sdk/testing`, for authors of out-of-tree drivers:
 *
 * - unit tests of a provider: {@link mockProviderContext}, {@link mockProviderConfig},
 *   {@link MockLogger}, {@link NoopMetrics};
 * - the real engine with your plugin against a real ZooKeeper: {@link startTestLauncher} and
 *   {@link TestZooKeeperClient} (Zuul's side of the protocol);
 * - {@link runDriverConformance}: launch, delete, quota, leak cleanup and timeouts, for any driver;
 * - the `fake` driver and its simulated cloud ({@link FakeDriver}, {@link FakeCloud}), the
 *   stand-in for a driver when testing the engine itself.
 *
 * Nothing here is loaded by the launcher; the launcher itself is the `nodepool-ts` package, run
 * as a child process (see docs/writing-a-driver.md).
 */
export * from './mock-context';
export * from './test-zookeeper-client';
export * from './start-test-launcher';
export * from './driver-conformance';
export * from './fake-cloud';
export * from './fake-provider';
