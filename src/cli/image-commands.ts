/**
 * The read-only image subcommands: `image-list`, `dib-image-list`, `image-status`. They show
 * what a Python nodepool-builder wrote to ZooKeeper, as Nodepool's CLI does (`status.py`): a
 * PrettyTable and a newline, or with `--json` the web app's JSON body. Unreadable records are
 * left out and named on stderr, so one bad znode does not hide the rest.
 */
import type { NodepoolZk } from '../zk/nodepool-zk';
import { readImageTree, type ImageTree } from '../zk/image-tree';
import {
  DIB_IMAGE_LIST_COLUMNS, IMAGE_LIST_COLUMNS, IMAGE_STATUS_COLUMNS, dibImageListRows, imageListRows, imageStatusRows,
  pythonJsonDumps, statusTable, type StatusColumn, type StatusRow,
} from '../status/index';

/** Which image listing. */
export type ImageListing = 'image-list' | 'dib-image-list' | 'image-status';

const LISTINGS: Record<ImageListing, { columns: readonly StatusColumn[]; rows: (tree: ImageTree) => StatusRow[] }> = {
  'image-list': { columns: IMAGE_LIST_COLUMNS, rows: imageListRows },
  'dib-image-list': { columns: DIB_IMAGE_LIST_COLUMNS, rows: dibImageListRows },
  'image-status': { columns: IMAGE_STATUS_COLUMNS, rows: imageStatusRows },
};

/** Options of {@link imageListingText}. */
export interface ImageListingOptions {
  json?: boolean;
  /** Receives one line per skipped znode (the CLI writes them to stderr). */
  warn?: (line: string) => void;
}

/** The text (or `--json` body) of one image listing, read live from ZooKeeper. */
export async function imageListingText(zk: NodepoolZk, listing: ImageListing, options: ImageListingOptions = {}): Promise<string> {
  const tree = await readImageTree(zk.client);
  for (const p of tree.problems) options.warn?.(`skipping unreadable ${p.path}: ${p.reason}\n`);
  const { columns, rows } = LISTINGS[listing];
  const found = rows(tree);
  return `${options.json ? pythonJsonDumps(found) : statusTable(columns, found)}\n`;
}
