/**
 * The builder's image records, read-only here: an ImageBuild at
 * `/nodepool/images/<image>/builds/<build>` and an ImageUpload at
 * `.../providers/<provider>/images/<seq10>`. Only the fields the listings show are kept.
 */
import { ModelError, optNumber, optString, parseJsonBody } from './model-error';

/** ImageBuild states. */
export const IMAGE_BUILD_STATES = ['building', 'ready', 'deleting', 'failed'] as const;
/** ImageUpload states. */
export const IMAGE_UPLOAD_STATES = ['uploading', 'ready', 'deleting', 'failed'] as const;

/** One diskimage build as the builder wrote it. */
export interface ImageBuild {
  /** Build state. */
  state: (typeof IMAGE_BUILD_STATES)[number];
  /** Unix seconds of the last state change. */
  state_time: number;
  /** Host name of the builder that made it. */
  builder: string | null;
  /** Comma-joined sorted formats, e.g. `qcow2,raw`. */
  formats: string | null;
}

/** One upload of a build to a provider. */
export interface ImageUpload {
  /** Upload state. */
  state: (typeof IMAGE_UPLOAD_STATES)[number];
  /** Unix seconds of the last state change. */
  state_time: number;
  /** Cloud image id, once uploaded. */
  external_id: string | null;
  /** Cloud image name. */
  external_name: string | null;
}

function stateOf<S extends string>(path: string, body: Record<string, unknown>, states: readonly S[]): S {
  // Python refuses an unknown state (TypeError on load), so such a record is unusable there too.
  if (typeof body.state !== 'string' || !(states as readonly string[]).includes(body.state)) {
    throw new ModelError(path, `unknown state ${JSON.stringify(body.state)}`);
  }
  return body.state as S;
}

function stateTimeOf(path: string, body: Record<string, unknown>): number {
  // Python would stamp "now" on load; a listing that shows a made-up age would mislead, so the
  // record is reported instead.
  const time = optNumber(body.state_time);
  if (time === null) throw new ModelError(path, 'missing or non-numeric state_time');
  return time;
}

/** Parses an ImageBuild body; throws {@link ModelError} naming `path` when unusable. */
export function parseImageBuild(path: string, data: Buffer | null | undefined): ImageBuild {
  const body = parseJsonBody(path, data);
  return {
    state: stateOf(path, body, IMAGE_BUILD_STATES),
    state_time: stateTimeOf(path, body),
    builder: optString(body.builder),
    formats: optString(body.formats),
  };
}

/** Parses an ImageUpload body; throws {@link ModelError} naming `path` when unusable. */
export function parseImageUpload(path: string, data: Buffer | null | undefined): ImageUpload {
  const body = parseJsonBody(path, data);
  return {
    state: stateOf(path, body, IMAGE_UPLOAD_STATES),
    state_time: stateTimeOf(path, body),
    external_id: optString(body.external_id),
    external_name: optString(body.external_name),
  };
}
