/**
 * Ready diskimage uploads of one provider, read from the builder's tree in ZooKeeper
 * (`/nodepool/images/<image>/builds/<build>/providers/<provider>/images/<upload>`, spec
 * zk-protocol §1). The newest `ready` upload of an image is the one labels boot from.
 */
import type { Logger, ZooKeeper } from '@nodepool-ts/sdk';
import type { ReadyUpload } from './openstack-labels';

async function children(zk: ZooKeeper, path: string): Promise<string[]> {
  try {
    return (await zk.client.getChildren(path)).filter((c) => c !== 'lock');
  } catch {
    // No such path: nothing built (yet).
    return [];
  }
}

/**
 * Newest ready upload per image name, for `images` of `provider`. Unreadable uploads are skipped
 * and logged.
 */
export async function readyUploads(zk: ZooKeeper, provider: string, images: string[], log: Logger): Promise<Map<string, ReadyUpload>> {
  const out = new Map<string, ReadyUpload>();
  for (const image of images) {
    let best: { upload: ReadyUpload; time: number } | undefined;
    const buildsPath = `/nodepool/images/${image}/builds`;
    for (const build of await children(zk, buildsPath)) {
      const uploadsPath = `${buildsPath}/${build}/providers/${provider}/images`;
      for (const upload of await children(zk, uploadsPath)) {
        const path = `${uploadsPath}/${upload}`;
        try {
          const { data } = await zk.client.get(path);
          if (!data) continue;
          const body = JSON.parse(data.toString('utf8')) as { state?: string; external_id?: string; state_time?: number };
          if (body.state !== 'ready' || !body.external_id) continue;
          const time = body.state_time ?? 0;
          if (!best || time > best.time) best = { upload: { path, externalId: body.external_id }, time };
        } catch (err) {
          log.warn('unreadable image upload', { path, err: (err as Error).message });
        }
      }
    }
    if (best) out.set(image, best.upload);
  }
  return out;
}
