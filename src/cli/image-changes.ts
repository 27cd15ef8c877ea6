/**
 * Nodepool's image-changing CLI commands on the builder's records in ZooKeeper (CLI:226-420):
 * `image-build` asks the builder for a build (the `request-build` flag), `image-pause` /
 * `image-unpause` set or clear the image's pause flag; `dib-image-delete` and
 * `image-delete` mark a build or an upload `deleting` for the builder to remove. Records are
 * rewritten in place (every key kept, `state` and `state_time` changed), version-checked so a
 * builder writing at the same moment is not overwritten.
 */
import type { NodepoolConfig } from '../plugins/nodepool-config';
import type { NodepoolZk } from '../zk/nodepool-zk';
import { imagePath } from '../zk/nodepool-paths';
import { BadVersionError, NodeExistsError, NoNodeError } from '../zk/zk-errors';
import { CliError } from './cli-error';

/**
 * `image-build IMAGE`: only a diskimage of nodepool.yaml that is not paused there (Nodepool
 * raises for the others); the flag is created with its parents, as kazoo's ensure_path does.
 */
export async function imageBuildCommand(zk: NodepoolZk, config: Pick<NodepoolConfig, 'diskimages'>, image: string): Promise<number> {
  const diskimage = config.diskimages.get(image);
  if (!diskimage) throw new CliError(`Trying to build a non disk-image-builder image: ${image}`);
  if (diskimage.pause) throw new CliError(`Skipping build request for image ${image}; paused`);
  await zk.client.ensurePath(`${imagePath(image)}/request-build`);
  return 0;
}

/** `image-pause IMAGE` / `image-unpause IMAGE`: the `/nodepool/images/<image>/pause` flag. */
export async function imagePauseCommand(zk: NodepoolZk, image: string, paused: boolean): Promise<number> {
  const path = `${imagePath(image)}/pause`;
  try {
    if (paused) await zk.client.create(path);
    else await zk.client.delete(path);
  } catch (err) {
    // Already in the wanted state: nothing to do, as Nodepool's (which also unpauses an image
    // it does not know without a word, and fails to pause one).
    if ((paused && err instanceof NodeExistsError) || (!paused && err instanceof NoNodeError)) return 0;
    if (err instanceof NoNodeError) throw new CliError(`image ${image} not found in ZooKeeper`);
    throw err;
  }
  return 0;
}

/** `dib-image-delete IMAGE-BUILD_ID`: the build `deleting`, unless it is still being built. */
export async function dibImageDeleteCommand(zk: NodepoolZk, id: string, out: (t: string) => void): Promise<number> {
  const dash = id.lastIndexOf('-');
  // Nodepool splits IMAGE-BUILD_ID at the last dash and fails on an id without one.
  if (dash < 0) throw new CliError(`${id}: not a dib image id (IMAGE-BUILD_ID, as dib-image-list shows it)`);
  const [image, build] = [id.slice(0, dash), id.slice(dash + 1)];
  const outcome = await markDeleting(zk, `${imagePath(image)}/builds/${build}`, 'building');
  if (outcome === 'missing') out(`Build ${id} not found\n`);
  else if (outcome === 'busy') out('Cannot delete a build in progress\n');
  return 0;
}

/** Which upload `image-delete` names. */
export interface UploadId {
  provider: string;
  image: string;
  buildId: string;
  uploadId: string;
}

/** `image-delete --provider P --image I --build-id B --upload-id U`: the upload `deleting`. */
export async function imageDeleteCommand(zk: NodepoolZk, u: UploadId, out: (t: string) => void): Promise<number> {
  const path = `${imagePath(u.image)}/builds/${u.buildId}/providers/${u.provider}/images/${u.uploadId}`;
  const outcome = await markDeleting(zk, path, 'uploading');
  if (outcome === 'missing') out('Image upload not found\n');
  else if (outcome === 'busy') out('Cannot delete because image upload in progress\n');
  return 0;
}

/** Rewrites the record at `path` with state `deleting`, unless it is in `busyState`. */
async function markDeleting(zk: NodepoolZk, path: string, busyState: string): Promise<'missing' | 'busy' | 'marked'> {
  for (;;) {
    let data: Buffer | null;
    let version: number;
    try {
      ({ data, stat: { version } } = await zk.client.get(path));
    } catch (err) {
      if (err instanceof NoNodeError) return 'missing';
      throw err;
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(data?.toString('utf8') ?? '');
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      body = parsed as Record<string, unknown>;
    } catch (err) {
      throw new CliError(`${path}: unreadable record (${(err as Error).message}); not changed`);
    }
    if (body.state === busyState) return 'busy';
    body.state = 'deleting';
    body.state_time = Date.now() / 1000;
    try {
      await zk.client.set(path, Buffer.from(JSON.stringify(body)), version);
      return 'marked';
    } catch (err) {
      // The builder wrote it meanwhile: decide again on what is there now.
      if (!(err instanceof BadVersionError)) throw err;
    }
  }
}
