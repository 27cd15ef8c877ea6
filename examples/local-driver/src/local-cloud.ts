/**
 * The "cloud" of the local driver: one JSON file per instance in a folder. The launcher (a
 * separate process) and the tests share it through the file system, as they would share a real
 * cloud through its API.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** One instance record. */
export interface LocalInstance {
  id: string;
  label: string;
  /** `building` until its boot finishes, then `active`. */
  status: 'building' | 'active';
  /** Tags the launcher put on it (`nodepool_provider_name`, `nodepool_node_id`, ...). */
  metadata: Record<string, string>;
}

/** See the module comment. */
export class LocalCloud {
  /** @param dir the folder holding the instance files (created when missing) */
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Creates a `building` instance; returns it. */
  create(label: string, metadata: Record<string, string>): LocalInstance {
    const instance: LocalInstance = { id: `local-${randomUUID().slice(0, 8)}`, label, status: 'building', metadata };
    this.write(instance);
    return instance;
  }

  /** The instance, or undefined when there is none. */
  get(id: string): LocalInstance | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.file(id), 'utf8')) as LocalInstance;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Marks the instance booted. */
  activate(id: string): void {
    const instance = this.get(id);
    if (instance) this.write({ ...instance, status: 'active' });
  }

  /** Deletes the instance; false when it did not exist. */
  remove(id: string): boolean {
    try {
      fs.unlinkSync(this.file(id));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /** Every instance. */
  list(): LocalInstance[] {
    return fs.readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => this.get(f.slice(0, -'.json'.length)))
      .filter((i): i is LocalInstance => i !== undefined);
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  private write(instance: LocalInstance): void {
    // Write-then-rename: a reader never sees half a file.
    const tmp = `${this.file(instance.id)}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(instance));
    fs.renameSync(tmp, this.file(instance.id));
  }
}
