/**
 * One read of the builder's image tree (spec zk-protocol §1.1): images with their `pause` and
 * `request-build` flags, builds and per-provider uploads. Kazoo `lock` children are ignored.
 * Records that cannot be parsed are left out and listed in {@link ImageTree.problems} with their
 * path, so one bad znode written by someone else never hides the rest. A missing tree is empty.
 *
 * With a watcher, every directory read and record read arms it (one-shot), so whoever holds the
 * result hears of the next change anywhere in the tree and can read it again.
 */
import type { ZkWatcher, ZooKeeperClient } from '../plugins/zookeeper';
import { parseImageBuild, parseImageUpload, type ImageBuild, type ImageUpload } from './models/image-build';
import { ModelError } from './models/model-error';
import { IMAGE_ROOT, imagePath } from './nodepool-paths';
import { NoNodeError } from './zk-errors';
import { mapLimit } from './zk-path';

/** Reads in flight per directory level. */
const READ_CONCURRENCY = 16;

/** A znode left out of the tree, and why. */
export interface ImageTreeProblem {
  path: string;
  reason: string;
}

/** One upload of a build to a provider. */
export interface UploadRecord {
  /** The sequence name, e.g. `0000000001`. */
  id: string;
  upload: ImageUpload;
}

/** The uploads of one build to one provider. */
export interface ProviderUploads {
  provider: string;
  uploads: UploadRecord[];
}

/** One build; `build` is null when its own record is unreadable (its uploads still count). */
export interface BuildRecord {
  id: string;
  build: ImageBuild | null;
  providers: ProviderUploads[];
}

/** A manual build request (`request-build` flag). */
export interface BuildRequestRecord {
  /** Creation time of the flag, Unix seconds. */
  created: number;
  /** A builder holds the image's build lock (`builds/lock` has contenders). */
  building: boolean;
}

/** One image. */
export interface ImageRecord {
  name: string;
  paused: boolean;
  buildRequest: BuildRequestRecord | null;
  builds: BuildRecord[];
}

/** The whole tree, sorted by name at every level. */
export interface ImageTree {
  images: ImageRecord[];
  problems: ImageTreeProblem[];
}

/** The empty tree. */
export const EMPTY_IMAGE_TREE: ImageTree = { images: [], problems: [] };

/** Reads the tree; see the module comment. Errors other than vanished znodes propagate. */
export async function readImageTree(client: ZooKeeperClient, watch?: ZkWatcher): Promise<ImageTree> {
  const reader = new TreeReader(client, watch);
  const names = await reader.children(IMAGE_ROOT);
  if (names === null) {
    // No tree yet: watch for it to appear (a children watch cannot be set on a missing znode).
    if (watch && (await client.exists(IMAGE_ROOT, watch))) return readImageTree(client, watch);
    return EMPTY_IMAGE_TREE;
  }
  const images = await mapLimit(names, READ_CONCURRENCY, (name) => reader.image(name));
  return { images: images.filter((i): i is ImageRecord => i !== null), problems: reader.problems };
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

class TreeReader {
  readonly problems: ImageTreeProblem[] = [];

  constructor(
    private readonly client: ZooKeeperClient,
    private readonly watch: ZkWatcher | undefined,
  ) {}

  /** Sorted children without `lock`, or null when the znode is gone. */
  async children(path: string): Promise<string[] | null> {
    try {
      return (await this.client.getChildren(path, this.watch)).filter((c) => c !== 'lock').sort(byName);
    } catch (err) {
      if (err instanceof NoNodeError) return null;
      throw err;
    }
  }

  /** Parsed data of a record, or null when gone or unreadable (then reported). */
  private async record<T>(path: string, parse: (path: string, data: Buffer | null) => T): Promise<T | null> {
    let data: Buffer | null;
    try {
      data = (await this.client.get(path, this.watch)).data;
    } catch (err) {
      if (err instanceof NoNodeError) return null;
      throw err;
    }
    try {
      return parse(path, data);
    } catch (err) {
      this.problems.push({ path, reason: err instanceof ModelError ? err.reason : (err as Error).message });
      return null;
    }
  }

  async image(name: string): Promise<ImageRecord | null> {
    const path = imagePath(name);
    // The flags are children of the image, so this one watch also sees them come and go.
    let flags: string[];
    try {
      flags = await this.client.getChildren(path, this.watch);
    } catch (err) {
      if (err instanceof NoNodeError) return null;
      throw err;
    }
    const buildIds = flags.includes('builds') ? ((await this.children(`${path}/builds`)) ?? []) : [];
    const builds = await mapLimit(buildIds, READ_CONCURRENCY, (id) => this.build(name, id));
    return {
      name,
      paused: flags.includes('pause'),
      buildRequest: flags.includes('request-build') ? await this.buildRequest(name) : null,
      builds: builds.filter((b): b is BuildRecord => b !== null),
    };
  }

  private async buildRequest(image: string): Promise<BuildRequestRecord | null> {
    const stat = await this.client.exists(`${imagePath(image)}/request-build`);
    if (!stat) return null;
    // Nodepool counts the request as being built while the build lock has contenders.
    let contenders: string[] = [];
    try {
      contenders = await this.client.getChildren(`${imagePath(image)}/builds/lock`, this.watch);
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
    return { created: Number(stat.ctime) / 1000, building: contenders.length > 0 };
  }

  private async build(image: string, id: string): Promise<BuildRecord | null> {
    const path = `${imagePath(image)}/builds/${id}`;
    const build = await this.record(path, parseImageBuild);
    const names = await this.children(path);
    if (names === null) return null;
    const providerNames = names.includes('providers') ? ((await this.children(`${path}/providers`)) ?? []) : [];
    const providers = await mapLimit(providerNames, READ_CONCURRENCY, (p) => this.providerUploads(`${path}/providers/${p}`, p));
    return { id, build, providers: providers.filter((p): p is ProviderUploads => p !== null) };
  }

  private async providerUploads(path: string, provider: string): Promise<ProviderUploads | null> {
    const names = await this.children(path);
    if (names === null) return null;
    const ids = names.includes('images') ? ((await this.children(`${path}/images`)) ?? []) : [];
    const uploads = await mapLimit(ids, READ_CONCURRENCY, async (id) => {
      const upload = await this.record(`${path}/images/${id}`, parseImageUpload);
      return upload ? { id, upload } : null;
    });
    return { provider, uploads: uploads.filter((u): u is UploadRecord => u !== null) };
  }
}
