/** Path helpers for znode paths (always absolute, relative to the chroot). */

/** Parent of a path: `/a/b` → `/a`, `/a` → `/`, and `/a/` (sequential dir form) → `/a`. */
export function parentPath(path: string): string {
  // `/a/` names a child of `/a` that the server will name (sequential create).
  if (path.length > 1 && path.endsWith('/')) return path.slice(0, -1);
  const idx = path.lastIndexOf('/');
  return idx <= 0 ? '/' : path.slice(0, idx);
}

/** Last component of a path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Joins a parent path and a child name. */
export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

/**
 * Normalises a chroot: `''`, `'/'` and undefined mean none; otherwise a leading `/` is ensured
 * and a trailing one dropped.
 */
export function normalizeChroot(chroot: string | undefined): string | undefined {
  if (!chroot) return undefined;
  let c = chroot.startsWith('/') ? chroot : `/${chroot}`;
  while (c.length > 1 && c.endsWith('/')) c = c.slice(0, -1);
  return c === '/' ? undefined : c;
}

/**
 * Builds the library's connect string. An explicit `chroot` replaces one given in `hosts`
 * (`host:port,host:port/chroot`); the library then prefixes and strips it on every path.
 */
export function buildConnectString(hosts: string, chroot?: string): string {
  const slash = hosts.indexOf('/');
  const hostList = slash === -1 ? hosts : hosts.slice(0, slash);
  const root = normalizeChroot(chroot ?? (slash === -1 ? undefined : hosts.slice(slash)));
  return root ? `${hostList}${root}` : hostList;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping result order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
