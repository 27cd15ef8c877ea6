/**
 * The nodepool-ts plugin SDK. A driver plugin imports only this module (as `@nodepool-ts/sdk`)
 * and npm packages. It binds a {@link ProviderDriver} in a ContainerModule and gets kernel services
 * by their tokens: {@link ZooKeeper}, {@link Tracer}, {@link Logger}, {@link Metrics},
 * {@link LauncherSettings}, {@link NodepoolConfigSource}.
 */
import 'reflect-metadata';

export { ContainerModule, inject, injectable, multiInject, optional } from 'inversify';
export type { ContainerModuleLoadOptions } from 'inversify';
export * from './logger';
export * from './tracer';
export * from './metrics';
export * from './lifecycle';
export * from './launcher-settings';
export * from './nodepool-config';
export * from './config-schema';
export * from './config-validation';
export * from './config-yaml';
export * from './provider-section';
export * from './quota';
export * from './state-machine';
export * from './run-state-machine';
export * from './async-mutex';
export * from './nodescan';
export * from './ssh-keyscan';
export * from './node-launcher';
export * from './launch-settings-defaults';
export * from './leak-tags';
export * from './pool-quota';
export * from './node-deleter';
export * from './driver';
export * from './instant-launch';
export * from './provider-state';
export * from './launcher-fleet';
export * from './zookeeper';
export * from './plugin-manifest';
export * from './testing/fake-cloud';
export * from './testing/fake-provider';
export * from './models/index';
