/**
 * What a launch of a label in a pool is allowed (attempts, timeouts, nodescan) and how Zuul
 * reaches its node; apart from the node launcher so that driver types can name it.
 */

/** Launch settings of the label/pool, in Nodepool's units (seconds). */
export interface NodeLaunchSettings {
  /** Total number of attempts (`launch-retries`; Nodepool's name, not a retry count). */
  launchRetries: number;
  /** Bound of one create state machine, s (the clock restarts with each attempt). */
  launchTimeout: number;
  /** Bound of the nodescan, s. */
  bootTimeout: number;
  /** Whether to nodescan at all. */
  hostKeyChecking: boolean;
  /** How Zuul connects: `ssh`, `winrm`, `network_cli`, `kubectl`, ...; null = ssh. */
  connectionType: string | null;
  /** Port Zuul connects to (and the nodescan probes). */
  connectionPort: number;
  /** Image connection defaults; left as they are on the node when undefined. */
  username?: string | null;
  /** Python interpreter path for Ansible. */
  pythonPath?: string | null;
  /** Shell type for Ansible. */
  shellType?: string | null;
  /** `node.image_id` (upload path or cloud-image name). */
  imageId?: string | null;
  /** Cloud image id passed to the create machine. */
  imageExternalId?: string | null;
}

/**
 * Nodepool's state-machine defaults (3 attempts, 3600 s launch timeout, 60 s boot timeout, ssh on
 * port 22, scanned). A provider without `launchSettings` launches with FALLBACK_LAUNCH_SETTINGS
 * (no scan) instead; drivers build theirs with `launchSettings()` (launch-settings-defaults.ts).
 */
export const DEFAULT_LAUNCH_SETTINGS: Readonly<NodeLaunchSettings> = Object.freeze({
  launchRetries: 3,
  launchTimeout: 3600,
  bootTimeout: 60,
  hostKeyChecking: true,
  connectionType: 'ssh',
  connectionPort: 22,
});
