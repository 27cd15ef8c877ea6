/**
 * The manifest field a plugin's `package.json` carries so the kernel finds it:
 *
 * ```json
 * { "name": "nodepool-ts-plugin-static",
 *   "nodepool-ts": { "entry": "src/index.ts", "drivers": ["static"], "sdk": "^1.0.0" } }
 * ```
 *
 * `entry` (relative to the plugin folder) must export an inversify `ContainerModule`, as the
 * default export or as `containerModule`. `drivers` lists the driver names the module binds to
 * {@link ProviderDriver}; the kernel checks the two agree.
 */
export interface PluginManifest {
  /** Module to load, relative to the plugin folder. `.ts` entries need the kernel's TS hook. */
  entry: string;
  /** Driver names this plugin contributes (may be empty for plugins that add services only). */
  drivers: string[];
  /**
   * Range of `@nodepool-ts/sdk` versions the plugin was written for, npm style (`^1.0.0`). The
   * kernel refuses the plugin, naming both versions, when its own SDK version is outside it.
   */
  sdk?: string;
}

/** Name of the manifest field in `package.json`. */
export const PLUGIN_MANIFEST_FIELD = 'nodepool-ts';
