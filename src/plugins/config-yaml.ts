import yaml from 'js-yaml';

/**
 * A YAML float, kept apart from YAML ints. JavaScript has one number type, so `30.0` and `30`
 * would both parse to `30`; Nodepool's validator tells them apart (`zookeeper-timeout: 30` is
 * rejected, `30.0` accepted), so {@link parseConfigYaml} boxes every
 * float in this class. {@link validate} unboxes them: validated values contain plain numbers.
 */
export class YamlFloat {
  /** @param value the number the YAML float denotes */
  constructor(readonly value: number) {}

  /** Lets arithmetic and comparisons treat the box as its number. */
  valueOf(): number {
    return this.value;
  }
}

/** A YAML syntax error with the 1-based position it was found at. */
export class ConfigYamlError extends Error {
  override readonly name = 'ConfigYamlError';

  /**
   * @param reason what the parser complained about
   * @param line 1-based line, 0 when unknown
   * @param column 1-based column, 0 when unknown
   * @param snippet the offending lines with a caret, as js-yaml renders them ('' when unknown)
   */
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    readonly snippet: string,
  ) {
    super(line > 0 ? `${reason} at line ${line}, column ${column}` : reason);
  }
}

type TypeOps = { resolve(data: string): boolean; construct(data: string): unknown };
// @types/js-yaml does not declare the built-in type table js-yaml exports.
const builtinTypes = (yaml as unknown as { types: { float: TypeOps; merge: yaml.Type } }).types;

// YAML 1.1 booleans, as PyYAML (and so Nodepool) reads them: `host-key-checking: no` is false,
// not the string "no" it would be under js-yaml's YAML 1.2 rules.
const BOOL_11 = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;

const bool11 = new yaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && BOOL_11.test(data),
  construct: (data: string) => /^(?:yes|true|on)$/i.test(data),
  predicate: (data: unknown) => typeof data === 'boolean',
});

const boxedFloat = new yaml.Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && builtinTypes.float.resolve(data),
  construct: (data: string) => new YamlFloat(builtinTypes.float.construct(data) as number),
  instanceOf: YamlFloat,
});

// The core schema (null, bool, int, float) with YAML 1.1 booleans, boxed floats and `<<` merge
// keys. No timestamp type: a date-looking value stays a string, which is what every key of
// nodepool.yaml wants. Built once; js-yaml schemas are immutable, so sharing it is safe.
const CONFIG_YAML_SCHEMA = yaml.CORE_SCHEMA.extend({ implicit: [bool11, boxedFloat, builtinTypes.merge] });

/**
 * Parses configuration YAML the way Nodepool's `yaml.safe_load` does, as far as config files
 * notice: only plain data (no custom tags), YAML 1.1 booleans (`yes`/`no`/`on`/`off`), floats boxed
 * in {@link YamlFloat}. Duplicate mapping keys are an error (PyYAML silently keeps the last one),
 * unless `duplicateKeys: 'last'` asks for PyYAML's behaviour.
 * An empty document parses to `null`.
 *
 * @param text the YAML text
 * @param fileName used in error messages
 * @param options `duplicateKeys`: `error` (default) or `last`
 * @throws {@link ConfigYamlError} on a syntax error, with line and column
 */
export function parseConfigYaml(text: string, fileName: string, options: { duplicateKeys?: 'error' | 'last' } = {}): unknown {
  try {
    // js-yaml's `json` mode lets a later duplicate key override the earlier one (PyYAML's way).
    return yaml.load(text, { schema: CONFIG_YAML_SCHEMA, filename: fileName, json: options.duplicateKeys === 'last' }) ?? null;
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      const mark = err.mark as yaml.Mark | undefined;
      throw new ConfigYamlError(err.reason, mark ? mark.line + 1 : 0, mark ? mark.column + 1 : 0, mark?.snippet ?? '');
    }
    throw err;
  }
}
