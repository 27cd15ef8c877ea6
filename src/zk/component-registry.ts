/**
 * Component registrations (`/nodepool/components/<kind>/<hostname><seq>`, spec §2.3): our own,
 * kept alive across sessions, and everybody's, read tolerantly.
 */
import type { Logger } from '../plugins/logger';
import type { ComponentRegistration, EphemeralRegistration, RegisteredComponent, ZooKeeperClient } from '../plugins/zookeeper';
import { type ComponentKind, type ComponentRecord, parseComponent, serializeComponent } from './models/component';
import { ModelError } from './models/model-error';
import { componentPath } from './nodepool-paths';
import { NoNodeError } from './zk-errors';
import { joinPath, mapLimit } from './zk-path';

/** Our registration of one component. */
class ComponentRegistrationImpl<T extends ComponentRecord> implements ComponentRegistration<T> {
  constructor(
    private readonly registration: EphemeralRegistration,
    private current: T,
  ) {}

  get path(): string | null {
    return this.registration.path;
  }

  get content(): T {
    return this.current;
  }

  async update(changes: Partial<T>): Promise<void> {
    this.current = { ...this.current, ...changes };
    // Version-checked like Nodepool's ComponentRegistration (CMP:123-126).
    await this.registration.update(serializeComponent(this.current));
  }

  unregister(): Promise<void> {
    return this.registration.unregister();
  }
}

/**
 * Registers `content` as an ephemeral sequential znode named after `content.hostname`; it is
 * re-created (new sequence) by the client after a session loss, with the latest content.
 */
export async function registerComponent<T extends ComponentRecord>(
  client: ZooKeeperClient,
  kind: ComponentKind,
  content: T,
): Promise<ComponentRegistration<T>> {
  const record = { ...content, kind } as T;
  const registration = await client.registerEphemeral(joinPath(componentPath(kind), record.hostname), serializeComponent(record), {
    sequential: true,
  });
  return new ComponentRegistrationImpl(registration, record);
}

/** Lists the registered components of a kind; unreadable ones are logged and skipped. */
export async function listComponents(client: ZooKeeperClient, logger: Logger, kind: ComponentKind): Promise<RegisteredComponent[]> {
  const root = componentPath(kind);
  let names: string[];
  try {
    names = await client.getChildren(root);
  } catch (err) {
    if (err instanceof NoNodeError) return [];
    throw err;
  }
  const entries = await mapLimit(names.sort(), 16, async (name): Promise<RegisteredComponent | undefined> => {
    const path = joinPath(root, name);
    try {
      const { data } = await client.get(path);
      return { name, path, record: parseComponent(path, data) };
    } catch (err) {
      if (err instanceof NoNodeError) return undefined;
      if (err instanceof ModelError) {
        logger.error(`skipping unreadable component ${path}: ${err.reason}`, { path });
        return undefined;
      }
      throw err;
    }
  });
  return entries.filter((e): e is RegisteredComponent => e !== undefined);
}
