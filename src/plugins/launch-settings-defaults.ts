/**
 * Launch settings that default sensibly for any driver. A provider's `launchSettings()` may
 * build on {@link launchSettings}; a provider without one launches with
 * {@link FALLBACK_LAUNCH_SETTINGS}, which never scans: the engine cannot know how such a node is
 * reached, and an SSH scan of port 22 would fail a node that takes no SSH after every attempt's
 * boot timeout (about 3 minutes with Nodepool's defaults).
 */
import { DEFAULT_LAUNCH_SETTINGS, type NodeLaunchSettings } from './node-launch-settings';
import { gathersHostKeys } from './nodescan';

/**
 * Nodepool's retries and timeouts with `overrides` on top. Unless `hostKeyChecking` is given,
 * nodes are scanned only when their connection type speaks SSH (`ssh`, `network_cli`); a
 * `winrm`, `kubectl`, ... node is handed over as soon as its instance is ready.
 */
export function launchSettings(overrides: Partial<NodeLaunchSettings> = {}): NodeLaunchSettings {
  const connectionType = overrides.connectionType !== undefined ? overrides.connectionType : DEFAULT_LAUNCH_SETTINGS.connectionType;
  return { ...DEFAULT_LAUNCH_SETTINGS, hostKeyChecking: gathersHostKeys(connectionType), ...overrides };
}

/** What the engine launches with when a provider has no `launchSettings()`: Nodepool's retries and timeouts, no nodescan. */
export const FALLBACK_LAUNCH_SETTINGS: Readonly<NodeLaunchSettings> = Object.freeze(launchSettings({ hostKeyChecking: false }));
