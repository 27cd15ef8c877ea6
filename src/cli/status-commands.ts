/**
 * The read-only `nodepool` subcommands: `list`, `request-list`, `label-list`, `info`. Output is
 * Nodepool's (`status.py`, `nodepoolcmd.py`): a PrettyTable and a newline, or with `--json` the
 * web app's JSON body.
 */
import type { NodepoolZk } from '../zk/nodepool-zk';
import { NoNodeError } from '../zk/zk-errors';
import { mapLimit } from '../zk/zk-path';
import type { Node } from '../zk/models/node';
import {
  LABEL_LIST_COLUMNS, NODE_LIST_COLUMNS, NODE_LIST_DETAIL_COLUMNS, REQUEST_LIST_COLUMNS, labelRows, nodeRow,
  prettyTable, pythonJsonDumps, requestRow, statusTable, type StatusColumn, type StatusRow,
} from '../status/index';

/** Lock reads in flight when listing many nodes. */
const LOCK_READ_CONCURRENCY = 32;

/** Output choice of the list commands. */
export interface ListOutput {
  json?: boolean;
}

function render(columns: readonly StatusColumn[], rows: StatusRow[], output: ListOutput): string {
  return `${output.json ? pythonJsonDumps(rows) : statusTable(columns, rows)}\n`;
}

/**
 * `nodepool list [--detail] [--json]`, or one node when `nodeId` is given (what `hold` and
 * `delete` print). "Locked" is read live like the CLI of Nodepool, but without creating lock
 * dirs: any child of the lock dir counts (the cache's rule), see README.
 */
export async function nodeListText(zk: NodepoolZk, options: ListOutput & { detail?: boolean; nodeId?: string }): Promise<string> {
  let nodes: Node[];
  if (options.nodeId !== undefined) {
    const node = await zk.getNode(options.nodeId);
    nodes = node ? [node] : [];
  } else {
    nodes = await zk.getNodes();
  }
  const now = Date.now() / 1000;
  const rows = await mapLimit(nodes, LOCK_READ_CONCURRENCY, async (node) => nodeRow(node, await zk.isNodeLocked(node.id as string), now));
  // --json gives every key, like the web app; the text table honours --detail.
  return render(options.detail ? NODE_LIST_DETAIL_COLUMNS : NODE_LIST_COLUMNS, rows, options);
}

/** `nodepool request-list [--json]`. */
export async function requestListText(zk: NodepoolZk, output: ListOutput): Promise<string> {
  return render(REQUEST_LIST_COLUMNS, (await zk.getNodeRequests()).map(requestRow), output);
}

/** `nodepool label-list [--json]` (our addition; the web app's `/label-list`). */
export async function labelListText(zk: NodepoolZk, output: ListOutput): Promise<string> {
  return render(LABEL_LIST_COLUMNS, labelRows(await zk.getRegisteredPools()), output);
}

/** Children of `path`, sorted, without kazoo `lock` dirs; a missing path has none. */
export async function childNames(zk: NodepoolZk, path: string): Promise<string[]> {
  try {
    return (await zk.client.getChildren(path)).filter((c) => c !== 'lock').sort();
  } catch (err) {
    if (err instanceof NoNodeError) return [];
    throw err;
  }
}

/** One build of an image that has a `providers/<provider>` subtree. */
export interface ProviderBuild {
  image: string;
  build: string;
  /** Upload sequence names under `.../providers/<provider>/images`. */
  uploads: string[];
}

/** Nodepool's getProviderBuilds: builds with data for `provider`, by image and build id. */
export async function providerBuilds(zk: NodepoolZk, provider: string): Promise<ProviderBuild[]> {
  const out: ProviderBuild[] = [];
  for (const image of await childNames(zk, '/nodepool/images')) {
    for (const build of await childNames(zk, `/nodepool/images/${image}/builds`)) {
      const providerPath = `/nodepool/images/${image}/builds/${build}/providers/${provider}`;
      if (!(await zk.client.exists(providerPath))) continue;
      out.push({ image, build, uploads: await childNames(zk, `${providerPath}/images`) });
    }
  }
  return out;
}

/** Nodes whose `provider` is `provider`. */
export async function providerNodes(zk: NodepoolZk, provider: string): Promise<Node[]> {
  return (await zk.getNodes()).filter((n) => n.provider === provider);
}

/** `nodepool info PROVIDER`: the provider's image builds and nodes in ZooKeeper. */
export async function infoText(zk: NodepoolZk, provider: string): Promise<string> {
  const builds = await providerBuilds(zk, provider);
  const nodes = await providerNodes(zk, provider);
  return [
    `ZooKeeper data for provider ${provider}\n`,
    'Image data:',
    prettyTable(['Image Name', 'Build ID', 'Upload IDs'], builds.map((b) => [b.image, b.build, b.uploads.join(',')])),
    '\nNodes:',
    statusTable([{ key: 'id', header: 'ID' }, { key: 'server_id', header: 'Server ID' }], nodes.map((n) => ({ id: n.id, server_id: n.external_id }))),
    '',
  ].join('\n');
}

