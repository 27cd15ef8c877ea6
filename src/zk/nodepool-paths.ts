/** Nodepool's ZooKeeper paths (spec §1.1); all relative to the chroot. */
import type { ComponentKind } from './models/component';

/** Root of node znodes. */
export const NODE_ROOT = '/nodepool/nodes';
/** Root of request znodes. */
export const REQUEST_ROOT = '/nodepool/requests';
/** Root of request lock dirs (requests may be ephemeral, which cannot have children). */
export const REQUEST_LOCK_ROOT = '/nodepool/requests-lock';
/** Root of component registrations. */
export const COMPONENT_ROOT = '/nodepool/components';
/** The stats election lock dir. */
export const STATS_ELECTION_PATH = '/nodepool/elections/stats';

/** `/nodepool/nodes/<id>`. */
export function nodePath(id: string): string {
  return `${NODE_ROOT}/${id}`;
}

/** `/nodepool/nodes/<id>/lock`. */
export function nodeLockPath(id: string): string {
  return `${NODE_ROOT}/${id}/lock`;
}

/** `/nodepool/requests/<id>`. */
export function requestPath(id: string): string {
  return `${REQUEST_ROOT}/${id}`;
}

/** `/nodepool/requests-lock/<id>`. */
export function requestLockPath(id: string): string {
  return `${REQUEST_LOCK_ROOT}/${id}`;
}

/** `/nodepool/components/<kind>`. */
export function componentPath(kind: ComponentKind): string {
  return `${COMPONENT_ROOT}/${kind}`;
}

/** Root of the builder's image tree (read-only for a launcher). */
export const IMAGE_ROOT = '/nodepool/images';

/** `/nodepool/images/<image>`. */
export function imagePath(image: string): string {
  return `${IMAGE_ROOT}/${image}`;
}
