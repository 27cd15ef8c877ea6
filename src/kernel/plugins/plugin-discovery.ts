import fs from 'node:fs';
import path from 'node:path';
import { PLUGIN_MANIFEST_FIELD, type PluginManifest } from '../../plugins/plugin-manifest';

/** A plugin folder whose manifest was read and checked. */
export interface DiscoveredPlugin {
  /** Absolute folder path; every message about the plugin names it. */
  dir: string;
  /** `name` from package.json (or the folder name). */
  name: string;
  manifest: PluginManifest;
}

/** A plugin that could not be discovered or loaded; the kernel logs it and goes on. */
export interface PluginFailure {
  dir: string;
  message: string;
}

/** Result of scanning plugin folders. */
export interface DiscoveryResult {
  plugins: DiscoveredPlugin[];
  failures: PluginFailure[];
}

function readManifest(dir: string): DiscoveredPlugin | PluginFailure | null {
  const pkgPath = path.join(dir, 'package.json');
  if (!fs.existsSync(pkgPath)) return null;
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    return { dir, message: `${pkgPath}: invalid JSON (${(err as Error).message})` };
  }
  const field = pkg[PLUGIN_MANIFEST_FIELD];
  // A folder without our field is not a plugin (it may be a helper package); skip it quietly.
  if (field === undefined) return null;
  if (field === null || typeof field !== 'object' || Array.isArray(field)) {
    return { dir, message: `${pkgPath}: "${PLUGIN_MANIFEST_FIELD}" must be an object` };
  }
  const { entry, drivers } = field as Record<string, unknown>;
  if (typeof entry !== 'string' || entry === '') {
    return { dir, message: `${pkgPath}: "${PLUGIN_MANIFEST_FIELD}.entry" must be a non-empty string` };
  }
  if (path.isAbsolute(entry) || path.relative(dir, path.resolve(dir, entry)).startsWith('..')) {
    return { dir, message: `${pkgPath}: "${PLUGIN_MANIFEST_FIELD}.entry" must stay inside the plugin folder` };
  }
  const driverList = drivers === undefined ? [] : drivers;
  if (!Array.isArray(driverList) || !driverList.every((d) => typeof d === 'string' && d !== '')) {
    return { dir, message: `${pkgPath}: "${PLUGIN_MANIFEST_FIELD}.drivers" must be a list of names` };
  }
  const name = typeof pkg.name === 'string' ? pkg.name : path.basename(dir);
  return { dir, name, manifest: { entry, drivers: driverList as string[] } };
}

/**
 * Scans each folder for plugins: every direct subfolder (or the folder itself) with a
 * `package.json` carrying the manifest field. Folders are visited in order, subfolders by name,
 * so loading order is stable. A folder listed twice is scanned once.
 */
export function discoverPlugins(dirs: readonly string[]): DiscoveryResult {
  const result: DiscoveryResult = { plugins: [], failures: [] };
  const seen = new Set<string>();
  const visit = (dir: string): void => {
    const real = fs.realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    const found = readManifest(real);
    if (found && 'manifest' in found) result.plugins.push(found);
    else if (found) result.failures.push(found);
  };
  for (const root of dirs) {
    const abs = path.resolve(root);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
      result.failures.push({ dir: abs, message: `${abs}: plugin folder does not exist` });
      continue;
    }
    if (fs.existsSync(path.join(abs, 'package.json'))) {
      visit(abs);
      continue;
    }
    for (const child of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (child.isDirectory() || child.isSymbolicLink()) visit(path.join(abs, child.name));
    }
  }
  return result;
}
