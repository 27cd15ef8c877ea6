import fs from 'node:fs';
import path from 'node:path';
import { PLUGIN_MANIFEST_FIELD, type PluginManifest } from '../../plugins/plugin-manifest';
import { checkSdkRange } from './sdk-range';

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

/** Keys a manifest may carry; anything else is taken for a misspelling. */
const MANIFEST_KEYS = ['entry', 'drivers', 'sdk'];

/** A top-level package.json key that is probably a misspelled manifest field (`nodepool_ts`, `nodepoolTs`). */
function misspelledField(pkg: Record<string, unknown>): string | undefined {
  const norm = (k: string): string => k.toLowerCase().replace(/[^a-z0-9]/g, '');
  return Object.keys(pkg).find((k) => k !== PLUGIN_MANIFEST_FIELD && norm(k) === norm(PLUGIN_MANIFEST_FIELD));
}

/**
 * Reads and checks one folder's manifest. `explicit` is true for a folder named as a plugin
 * itself (not found as a subfolder), where a missing field is an error too. Every problem is one
 * failure naming the package.json and the key.
 */
function readManifest(dir: string, explicit: boolean): DiscoveredPlugin | PluginFailure | null {
  const pkgPath = path.join(dir, 'package.json');
  if (!fs.existsSync(pkgPath)) {
    return explicit ? { dir, message: `${dir}: no package.json (a plugin folder needs one with a "${PLUGIN_MANIFEST_FIELD}" field)` } : null;
  }
  let pkg: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { dir, message: `${pkgPath}: must hold a JSON object` };
    pkg = parsed as Record<string, unknown>;
  } catch (err) {
    return { dir, message: `${pkgPath}: invalid JSON (${(err as Error).message})` };
  }
  const field = pkg[PLUGIN_MANIFEST_FIELD];
  if (field === undefined) {
    const near = misspelledField(pkg);
    if (near) return { dir, message: `${pkgPath}: has "${near}" but the manifest field is "${PLUGIN_MANIFEST_FIELD}"` };
    // Every package in a plugin folder is meant to be a plugin: one without the field is reported,
    // not skipped (a plugin whose manifest was forgotten would else vanish without a word).
    return { dir, message: `${pkgPath}: no "${PLUGIN_MANIFEST_FIELD}" manifest field (expected {"entry": ..., "drivers": [...]})` };
  }
  if (field === null || typeof field !== 'object' || Array.isArray(field)) {
    return { dir, message: `${pkgPath}: "${PLUGIN_MANIFEST_FIELD}" must be an object` };
  }
  const unknown = Object.keys(field).filter((k) => !MANIFEST_KEYS.includes(k));
  if (unknown.length > 0) {
    return { dir, message: `${pkgPath}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${PLUGIN_MANIFEST_FIELD}.${k}"`).join(', ')} (known: ${MANIFEST_KEYS.join(', ')})` };
  }
  const { entry, drivers } = field as Record<string, unknown>;
  if (typeof entry !== 'string' || entry === '') {
    return { dir, message: `${pkgPath}: "${PLUGIN_MANIFEST_FIELD}.entry" ${entry === undefined ? 'is missing' : 'must be a non-empty string'}` };
  }
  if (path.isAbsolute(entry) || path.relative(dir, path.resolve(dir, entry)).startsWith('..')) {
    return { dir, message: `${pkgPath}: "${PLUGIN_MANIFEST_FIELD}.entry" must stay inside the plugin folder` };
  }
  if (!fs.existsSync(path.resolve(dir, entry)) && !hasResolvableExtension(path.resolve(dir, entry))) {
    return { dir, message: `${pkgPath}: "${PLUGIN_MANIFEST_FIELD}.entry" ${entry} does not exist` };
  }
  if (drivers === undefined) {
    return { dir, message: `${pkgPath}: "${PLUGIN_MANIFEST_FIELD}.drivers" is missing (list the driver names, [] for none)` };
  }
  if (!Array.isArray(drivers) || !drivers.every((d) => typeof d === 'string' && d !== '')) {
    return { dir, message: `${pkgPath}: "${PLUGIN_MANIFEST_FIELD}.drivers" must be a list of names` };
  }
  const sdkMismatch = checkSdkRange((field as Record<string, unknown>).sdk, `${pkgPath}: "${PLUGIN_MANIFEST_FIELD}.sdk"`);
  if (sdkMismatch) return { dir, message: sdkMismatch };
  const name = typeof pkg.name === 'string' ? pkg.name : path.basename(dir);
  return { dir, name, manifest: { entry, drivers: drivers as string[] } };
}

/** Whether `require` would find `file` with one of its extensions added. */
function hasResolvableExtension(file: string): boolean {
  return ['.js', '.ts', '.cjs', '.json'].some((ext) => fs.existsSync(file + ext)) || fs.existsSync(path.join(file, 'index.js')) || fs.existsSync(path.join(file, 'index.ts'));
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Scans each folder for plugins: every direct subfolder (or the folder itself) with a
 * `package.json` carrying the manifest field. Folders are visited in order, subfolders by name,
 * so loading order is stable. A folder listed twice is scanned once.
 */
export function discoverPlugins(dirs: readonly string[]): DiscoveryResult {
  const result: DiscoveryResult = { plugins: [], failures: [] };
  const seen = new Set<string>();
  const visit = (dir: string, explicit: boolean): void => {
    const real = fs.realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    const found = readManifest(real, explicit);
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
      visit(abs, true);
      continue;
    }
    for (const child of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      // Hidden folders (.git, editors' state) and node_modules are not plugins.
      if (child.name.startsWith('.') || child.name === 'node_modules') continue;
      if (child.isDirectory() || (child.isSymbolicLink() && isDirectory(path.join(abs, child.name)))) visit(path.join(abs, child.name), false);
    }
  }
  return result;
}
