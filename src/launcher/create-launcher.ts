/**
 * A whole launcher: the launcher kernel ({@link createLauncherKernel}) with the engine as a core
 * service after the launcher component. Lives in the engine layer so the kernel does not depend
 * on the engine.
 */
import { createLauncherKernel, type LauncherKernel } from '../kernel/launcher-kernel';
import type { LauncherSettings } from '../plugins/launcher-settings';
import { limitHeapGrowth } from './heap-growth';
import { LauncherEngine, type LauncherEngineOptions } from './launcher-engine';

/** Options of {@link createLauncher}: those of createLauncherKernel, plus engine timings. */
export type CreateLauncherOptions = NonNullable<Parameters<typeof createLauncherKernel>[1]> & { engine?: LauncherEngineOptions };

/** A launcher kernel and its engine. */
export interface Launcher extends LauncherKernel {
  engine: LauncherEngine;
}

/** Builds a launcher; nothing connects until `kernel.start()`. */
export async function createLauncher(settings: LauncherSettings, options: CreateLauncherOptions = {}): Promise<Launcher> {
  // The launcher is the process: its heap policy is set here, so every way of starting one
  // (the CLI, the benchmarks) runs with it.
  limitHeapGrowth();
  const { engine: engineOptions, coreServices: userCore, ...rest } = options;
  let engine: LauncherEngine | undefined;
  let reload: (() => void) | undefined;
  const launcher = await createLauncherKernel(settings, {
    ...rest,
    // createLauncherKernel puts the launcher component first, then these: the engine starts once
    // the process is registered, and stops before it unregisters.
    coreServices: (c) => {
      engine = new LauncherEngine(c, { reloadConfig: () => reload?.(), ...engineOptions });
      return [engine, ...(userCore?.(c) ?? [])];
    },
  });
  reload = (): void => {
    launcher.reloadIfChanged();
  };
  return { ...launcher, engine: engine as LauncherEngine };
}
