/**
 * The manifest field a plugin's `package.json` carries so the kernel finds it:
 *
 * ```json
 * { "name": "nodepool-ts-plugin-static",
 *   "nodepool-ts": { "entry": "src/index.ts", "drivers": ["static"] } }
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
}

/** Name of the manifest field in `package.json`. */
export const PLUGIN_MANIFEST_FIELD = 'nodepool-ts';
