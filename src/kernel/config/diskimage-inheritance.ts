import type { DiskImageConfig } from '../../plugins/nodepool-config';
import { configError, type ConfigError } from './config-error';

type Raw = Record<string, unknown>;

/** The diskimages of a configuration after inheritance. */
export interface ResolvedDiskimages {
  /** Concrete (non-abstract) images by name, defaults filled. */
  images: Map<string, DiskImageConfig>;
  errors: ConfigError[];
}

const DEFAULTS = { username: 'zuul', 'python-path': 'auto', 'shell-type': null, pause: false, abstract: false };

function inherit(parent: Raw, child: Raw): Raw {
  const { abstract: _abstract, ...fromParent } = parent;
  return {
    ...fromParent,
    ...child,
    elements: [...((parent.elements as string[]) ?? []), ...((child.elements as string[]) ?? [])],
    'env-vars': { ...(parent['env-vars'] as Raw), ...(child['env-vars'] as Raw) },
  };
}

/**
 * Applies `parent` inheritance to validated `diskimages` entries (spec §1.5): scalars are
 * overridden by the child, `elements` appended, `env-vars` merged; abstract images only serve as
 * parents. Parents may come later in the list. Reports duplicate names (the first one is kept),
 * unknown parents and parent cycles (the image is then taken without the broken link).
 */
export function resolveDiskimages(entries: readonly Raw[], file: string): ResolvedDiskimages {
  const errors: ConfigError[] = [];
  const byName = new Map<string, { entry: Raw; index: number }>();
  entries.forEach((entry, index) => {
    if (typeof entry?.name !== 'string') return; // already reported by the schema
    if (byName.has(entry.name)) errors.push(configError(file, 'check', `diskimages[${index}].name`, `diskimage ${entry.name} already defined`));
    else byName.set(entry.name, { entry, index });
  });

  const resolved = new Map<string, Raw>();
  const resolve = (name: string, chain: string[]): Raw => {
    const done = resolved.get(name);
    if (done) return done;
    const { entry, index } = byName.get(name)!;
    const parentName = entry.parent as string | undefined;
    let merged: Raw = { elements: [], 'env-vars': {}, ...entry };
    if (parentName !== undefined) {
      const at = `diskimages[${index}].parent`;
      if (!byName.has(parentName)) {
        errors.push(configError(file, 'check', at, `diskimage ${name} has non-existent parent: ${parentName}`));
      } else if (parentName === name || chain.includes(parentName)) {
        errors.push(configError(file, 'check', at, `diskimage ${name} has a parent cycle: ${[...chain, name, parentName].join(' -> ')}`));
      } else {
        merged = inherit(resolve(parentName, [...chain, name]), entry);
      }
    }
    resolved.set(name, merged);
    return merged;
  };

  const images = new Map<string, DiskImageConfig>();
  for (const name of byName.keys()) {
    const image = { ...DEFAULTS, ...resolve(name, []) } as DiskImageConfig & { abstract: boolean };
    if (!image.abstract) images.set(name, image);
  }
  return { images, errors };
}
