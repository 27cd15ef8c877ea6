/**
 * Nodepool's image listings (`status.py`, STS:196-294): `image-list` (uploads),
 * `dib-image-list` (builds) and `image-status` (pause flag and manual build request per image),
 * as pure functions of one {@link ImageTree} read. Rows follow the tree's name order at every
 * level (Nodepool prints ZooKeeper's unordered child order).
 */
import type { ImageTree } from '../zk/image-tree';
import type { StatusColumn, StatusRow } from './status-table';

/** Columns of `nodepool image-list` and `/image-list`. */
export const IMAGE_LIST_COLUMNS: readonly StatusColumn[] = [
  { key: 'id', header: 'Build ID' },
  { key: 'upload_id', header: 'Upload ID' },
  { key: 'provider', header: 'Provider' },
  { key: 'image', header: 'Image' },
  { key: 'external_name', header: 'Provider Image Name' },
  { key: 'external_id', header: 'Provider Image ID' },
  { key: 'state', header: 'State' },
  { key: 'age', header: 'Age' },
];

/** Columns of `nodepool dib-image-list` and `/dib-image-list`. */
export const DIB_IMAGE_LIST_COLUMNS: readonly StatusColumn[] = [
  { key: 'id', header: 'ID' },
  { key: 'image', header: 'Image' },
  { key: 'builder', header: 'Builder' },
  { key: 'formats', header: 'Formats' },
  { key: 'state', header: 'State' },
  { key: 'age', header: 'Age' },
];

/** Columns of `nodepool image-status` and `/image-status`. */
export const IMAGE_STATUS_COLUMNS: readonly StatusColumn[] = [
  { key: 'image', header: 'Image' },
  { key: 'paused', header: 'Paused' },
  { key: 'build_request', header: 'Build Request' },
  { key: 'build_request_age', header: 'Build Request Age' },
];

/** One row per upload: build id, upload id, provider, image, names, state, `age` as int epoch. */
export function imageListRows(tree: ImageTree): StatusRow[] {
  const rows: StatusRow[] = [];
  for (const image of tree.images) {
    for (const build of image.builds) {
      for (const { provider, uploads } of build.providers) {
        for (const { id, upload } of uploads) {
          rows.push({
            id: build.id,
            upload_id: id,
            provider,
            image: image.name,
            external_name: upload.external_name,
            external_id: upload.external_id,
            state: upload.state,
            age: Math.trunc(upload.state_time),
          });
        }
      }
    }
  }
  return rows;
}

/**
 * One row per readable build: id `<image>-<build>`, builder, formats (the stored comma-joined
 * string as a list, like Nodepool's model), state (`paused` while the image is paused), `age`.
 */
export function dibImageListRows(tree: ImageTree): StatusRow[] {
  const rows: StatusRow[] = [];
  for (const image of tree.images) {
    for (const { id, build } of image.builds) {
      if (!build) continue; // unreadable: reported in tree.problems
      rows.push({
        id: `${image.name}-${id}`,
        image: image.name,
        builder: build.builder,
        formats: build.formats ? build.formats.split(',') : [],
        state: image.paused ? 'paused' : build.state,
        age: Math.trunc(build.state_time),
      });
    }
  }
  return rows;
}

/** One row per image: paused flag, build request `pending`/`building`/null and its int age. */
export function imageStatusRows(tree: ImageTree): StatusRow[] {
  return tree.images.map((image) => ({
    image: image.name,
    paused: image.paused,
    build_request: image.buildRequest ? (image.buildRequest.building ? 'building' : 'pending') : null,
    build_request_age: image.buildRequest ? Math.trunc(image.buildRequest.created) : null,
  }));
}
