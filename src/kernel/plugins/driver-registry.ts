import type { ProviderDriver } from '../../plugins/driver';

/** The drivers of one kernel, by `driver:` name, each remembering the plugin folder it came from. */
export class DriverRegistry {
  private readonly drivers = new Map<string, { driver: ProviderDriver; dir: string }>();

  /**
   * Adds the drivers of one plugin, all or none: if any name is taken the plugin is refused
   * with a message naming both folders.
   */
  register(dir: string, drivers: readonly ProviderDriver[]): void {
    for (const driver of drivers) {
      const existing = this.drivers.get(driver.name);
      if (existing) {
        throw new Error(`plugin ${dir}: driver "${driver.name}" is already provided by plugin ${existing.dir}`);
      }
    }
    for (const driver of drivers) this.drivers.set(driver.name, { driver, dir });
  }

  /** The driver for a `driver:` name, if any plugin provides it. */
  get(name: string): ProviderDriver | undefined {
    return this.drivers.get(name)?.driver;
  }

  /** All drivers, in registration order. */
  all(): ProviderDriver[] {
    return [...this.drivers.values()].map((e) => e.driver);
  }

  /** Driver names, in registration order. */
  names(): string[] {
    return [...this.drivers.keys()];
  }
}
