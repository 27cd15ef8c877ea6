/**
 * A small schema language for nodepool.yaml sections, with the semantics of the voluptuous
 * schemas Nodepool validates with: objects are strict, keys may be
 * required or have defaults, and {@link validate} reports every problem with its key path.
 *
 * ```ts
 * const label = s.object({
 *   name: s.str().required(),
 *   'diskimage': s.str(),
 *   'cloud-image': s.str(),
 *   'min-ram': s.int(),
 *   'flavor-name': s.str(),
 *   'volume-size': s.int().default(50),
 * }).exactlyOne('diskimage', 'cloud-image').atLeastOne('min-ram', 'flavor-name');
 * ```
 *
 * Type checks, and where they knowingly differ from Python's `isinstance`:
 * - `int` rejects booleans (Python's `isinstance(True, int)` lets `max-servers: yes` through;
 *   that is never meant) and rejects YAML floats, even `30.0`.
 * - `float` rejects YAML ints, as Nodepool does: `zookeeper-timeout: 30` fails, `30.0` passes.
 *   The value is still usable, so it is passed through alongside the issue. Floats are only
 *   recognisable in values parsed by {@link parseConfigYaml}; a plain JavaScript number counts as
 *   a float only when it is not an integer.
 * - `number` takes either (voluptuous `Coerce(float)`, e.g. OpenStack `rate`).
 * - `null` fails every type unless the schema is {@link Schema.nullable}.
 *
 * Validation itself lives in `config-validation.ts` (`validate`, `formatIssue`); the SDK's index
 * exports both modules.
 */

/** Which check a {@link Schema} performs. */
export type SchemaKind =
  | 'any' | 'str' | 'int' | 'float' | 'number' | 'bool' | 'enum'
  | 'strOrList' | 'list' | 'dict' | 'object' | 'anyOf';

/** Values an {@link EnumSchema} may list. */
export type EnumValue = string | number | boolean | null;

/**
 * A schema node. Instances are immutable: the modifiers return a modified copy, so one schema can
 * be shared by several drivers and extended without affecting the original.
 */
export class Schema {
  /** The key must be present in its object. */
  readonly isRequired: boolean = false;
  /** A default is filled in when the key is absent. */
  readonly hasDefault: boolean = false;
  /** The default (copied on use; an object default is validated, so its own defaults fill too). */
  readonly defaultValue: unknown = undefined;
  /** `null` is accepted as is. */
  readonly isNullable: boolean = false;

  /** @param kind the check to perform */
  constructor(readonly kind: SchemaKind) {}

  /** Required for config-validate only: Nodepool's launcher runs without the key. */
  readonly runtimeOptional: boolean = false;

  /**
   * A copy whose key must be present (voluptuous `Required`). `{ runtime: false }`: only
   * config-validate insists; the launcher reports the missing key and runs without it.
   */
  required(options: { runtime?: boolean } = {}): this {
    return this.with({ isRequired: true, runtimeOptional: options.runtime === false });
  }

  /** A copy that fills `value` in when the key is absent (not when it is `null`). */
  default(value: unknown): this {
    return this.with({ hasDefault: true, defaultValue: value });
  }

  /** A copy that also accepts `null`. */
  nullable(): this {
    return this.with({ isNullable: true });
  }

  /** A copy of this schema with some properties replaced (for subclasses' modifiers). */
  protected with(patch: object): this {
    return Object.assign(Object.create(Object.getPrototypeOf(this) as object) as this, this, patch);
  }
}

/** A list whose items all match {@link ListSchema.item} (any items when undefined). */
export class ListSchema extends Schema {
  /** @param item schema of every item, or undefined for any items */
  constructor(readonly item: Schema | undefined) {
    super('list');
  }

  /** A copy with another item schema, keeping required/default (used to extend pool schemas). */
  withItem(item: Schema): ListSchema {
    return this.with({ item });
  }
}

/** A mapping with arbitrary string keys whose values match {@link DictSchema.values}. */
export class DictSchema extends Schema {
  /** @param values schema of every value, or undefined for any values */
  constructor(readonly values: Schema | undefined) {
    super('dict');
  }
}

/** One of a fixed set of scalar values. */
export class EnumSchema extends Schema {
  /** @param values the allowed values */
  constructor(readonly values: readonly EnumValue[]) {
    super('enum');
  }
}

/** A value matching at least one alternative; the first that matches produces the value. */
export class AnyOfSchema extends Schema {
  /** @param alternatives schemas tried in order */
  constructor(readonly alternatives: readonly Schema[]) {
    super('anyOf');
  }
}

/** The fields of an {@link ObjectSchema}, by key. */
export type ObjectFields = Readonly<Record<string, Schema>>;

/** A rule over a group of keys of one object. */
export interface KeyGroup {
  /** `atMostOne` (voluptuous `Exclusive`), `exactlyOne` or `atLeastOne`. */
  rule: 'atMostOne' | 'exactlyOne' | 'atLeastOne';
  /** The keys of the group. */
  keys: readonly string[];
  /**
   * A missing key of the group is an error for `config-validate` only: the launcher reports it and
   * runs the entry without it (see {@link ObjectSchema.groupsRequiredByValidatorOnly}).
   */
  runtimeOptional?: boolean;
}

/** A post-processing step of an {@link ObjectSchema}; runs only when the object had no issues. */
export type ObjectTransform = (value: Record<string, unknown>) => Record<string, unknown>;

/**
 * A mapping with known keys. Strict by default: keys not in {@link ObjectSchema.fields} are
 * reported as `extra keys not allowed` unless the object is {@link ObjectSchema.open}.
 */
export class ObjectSchema extends Schema {
  /** What unknown keys may be: `false` rejected, `true` anything, a schema checked against it. */
  readonly extra: boolean | Schema = false;
  /** Rules over groups of keys (exclusive, exactly one, at least one). */
  readonly groups: readonly KeyGroup[] = [];
  /** Post-processing steps, in order. */
  readonly transforms: readonly ObjectTransform[] = [];

  /** @param fields the known keys */
  constructor(readonly fields: ObjectFields) {
    super('object');
  }

  /**
   * A copy with more fields. A field given here replaces a field of the same key, so whoever
   * extends has the last word (the kernel extends driver schemas with the common provider and
   * pool keys this way).
   */
  extend(fields: ObjectFields): ObjectSchema {
    return this.with({ fields: { ...this.fields, ...fields } });
  }

  /** A copy that allows unknown keys, checked against `values` when given. */
  open(values?: Schema): ObjectSchema {
    return this.with({ extra: values ?? true });
  }

  /** A copy where at most one of `keys` may be present (voluptuous `Exclusive`). */
  exclusive(...keys: string[]): ObjectSchema {
    return this.with({ groups: [...this.groups, { rule: 'atMostOne', keys }] });
  }

  /** A copy where exactly one of `keys` must be present. */
  exactlyOne(...keys: string[]): ObjectSchema {
    return this.with({ groups: [...this.groups, { rule: 'exactlyOne', keys }] });
  }

  /** A copy where at least one of `keys` must be present. */
  atLeastOne(...keys: string[]): ObjectSchema {
    return this.with({ groups: [...this.groups, { rule: 'atLeastOne', keys }] });
  }

  /**
   * A copy whose "exactly one" and "at least one" groups so far insist on a key for
   * `config-validate` only. Nodepool's launcher runs an entry that lacks them (an OpenStack label
   * with neither `diskimage` nor `cloud-image` is loaded and never ready); the launcher reports
   * the missing key as a warning and keeps the entry. Two keys of an "exactly one" group stay an
   * error everywhere.
   */
  groupsRequiredByValidatorOnly(): ObjectSchema {
    return this.with({ groups: this.groups.map((g) => (g.rule === 'atMostOne' ? g : { ...g, runtimeOptional: true })) });
  }

  /**
   * A copy that post-processes valid values, e.g. to derive a default from a sibling key. The
   * function gets a fresh object it may modify and return.
   */
  transform(fn: ObjectTransform): ObjectSchema {
    return this.with({ transforms: [...this.transforms, fn] });
  }
}

/** Schema constructors: `s.object({...})`, `s.str().required()`, `s.int().default(5)`, ... */
export const s = Object.freeze({
  /** A strict mapping with the given keys. */
  object: (fields: ObjectFields): ObjectSchema => new ObjectSchema(fields),
  /** A string. */
  str: (): Schema => new Schema('str'),
  /** An integer (not a boolean, not a YAML float). */
  int: (): Schema => new Schema('int'),
  /** A YAML float (not a YAML int): see the module notes. */
  float: (): Schema => new Schema('float'),
  /** An int or a float. */
  number: (): Schema => new Schema('number'),
  /** A boolean (YAML 1.1 `yes`/`no`/`on`/`off` included, as PyYAML reads them). */
  bool: (): Schema => new Schema('bool'),
  /** Anything (floats unboxed). */
  any: (): Schema => new Schema('any'),
  /** One of the given scalars. */
  enum: (...values: EnumValue[]): EnumSchema => new EnumSchema(values),
  /** A string or a list of strings, normalized to a list (`"a"` → `["a"]`). */
  strOrList: (): Schema => new Schema('strOrList'),
  /** A list, of `item`s when given. */
  list: (item?: Schema): ListSchema => new ListSchema(item),
  /** A mapping with any string keys, values of `values` when given. */
  dict: (values?: Schema): DictSchema => new DictSchema(values),
  /** A value matching one of `alternatives` (voluptuous `Any`). */
  anyOf: (...alternatives: Schema[]): AnyOfSchema => new AnyOfSchema(alternatives),
});

/** True for schemas built by {@link s.object} (also across separately loaded SDK copies). */
export function isObjectSchema(value: unknown): value is ObjectSchema {
  return value instanceof Schema ? value.kind === 'object' : typeof value === 'object' && value !== null &&
    (value as Schema).kind === 'object' && typeof (value as ObjectSchema).extend === 'function';
}
