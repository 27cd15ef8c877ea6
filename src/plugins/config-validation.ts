/**
 * Validation of values against {@link Schema}s (see `config-schema.ts` for the language and the
 * type-check rules).
 */
import type {
  AnyOfSchema, DictSchema, EnumSchema, EnumValue, ListSchema, ObjectSchema, Schema,
} from './config-schema';
import { YamlFloat } from './config-yaml';

/** One problem in a configuration. */
export interface ConfigIssue {
  /** Key path such as `providers[2].pools[0].labels[1].flavor-name`; '' for the whole document. */
  path: string;
  /** What is wrong, e.g. `required key not provided`, `expected int, got str "x"`. */
  message: string;
  /** A key only Nodepool's validator requires (its launcher runs without it); see {@link Schema.required}. */
  runtimeOptional?: boolean;
}

/** The outcome of {@link validate}. */
export interface ValidationResult<T = unknown> {
  /** The value with defaults filled, floats unboxed and transforms applied; best effort if there are issues. */
  value: T;
  /** Every problem found, in document order; empty when the value is valid. */
  issues: ConfigIssue[];
}

/**
 * Checks `value` against `schema` and collects every issue (not just the first).
 *
 * @param schema the schema
 * @param value parsed YAML, ideally from {@link parseConfigYaml}
 * @param basePath key path of `value` in its document, prefixed to every issue path
 *   (e.g. `providers[2]`)
 * @returns the value with defaults filled, and the issues
 */
export function validate<T = unknown>(schema: Schema, value: unknown, basePath = ''): ValidationResult<T> {
  const issues: ConfigIssue[] = [];
  const out = check(schema, value, basePath, issues);
  return { value: out as T, issues };
}

/** Key path of `key` inside `base`: `a.b`, or `a["odd key"]` for keys that are not plain words. */
export function keyPath(base: string, key: string): string {
  if (!/^[\w-]+$/.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base ? `${base}.${key}` : key;
}

/** Renders an issue as `<file>: <path>: <message>` (parts that are empty are left out). */
export function formatIssue(issue: ConfigIssue, file?: string): string {
  return [file, issue.path, issue.message].filter((part) => part).join(': ');
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof YamlFloat);
}

/** Deep copy with floats unboxed, for values that are taken as they are. */
function plain(value: unknown): unknown {
  if (value instanceof YamlFloat) return value.value;
  if (Array.isArray(value)) return value.map(plain);
  if (isMapping(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof YamlFloat) return 'float';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  return Array.isArray(value) ? 'list' : 'dict';
}

function describe(value: unknown): string {
  const type = typeName(value);
  if (value instanceof YamlFloat) return `float ${Number.isInteger(value.value) ? value.value.toFixed(1) : value.value}`;
  if (typeof value === 'string') return `str ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${type} ${value}`;
  return type;
}

function expected(schema: Schema): string {
  switch (schema.kind) {
    case 'number': return 'int or float';
    case 'list': return 'a list';
    case 'dict': case 'object': return 'a dictionary';
    case 'strOrList': return 'str or a list of str';
    case 'enum': return `one of ${(schema as EnumSchema).values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'anyOf': return (schema as AnyOfSchema).alternatives.map(expected).join(' or ');
    default: return schema.kind;
  }
}

function check(schema: Schema, value: unknown, path: string, issues: ConfigIssue[]): unknown {
  if (value === null && schema.isNullable) return null;
  const fail = (): undefined => {
    issues.push({ path, message: `expected ${expected(schema)}, got ${describe(value)}` });
    return undefined;
  };
  switch (schema.kind) {
    case 'any': return plain(value);
    case 'str': return typeof value === 'string' ? value : fail();
    case 'bool': return typeof value === 'boolean' ? value : fail();
    case 'int': return typeof value === 'number' && Number.isInteger(value) ? value : fail();
    case 'number':
      if (value instanceof YamlFloat) return value.value;
      return typeof value === 'number' ? value : fail();
    case 'float':
      if (value instanceof YamlFloat) return value.value;
      if (typeof value !== 'number') return fail();
      // An int where a float is required: reported, but the number itself is fine to use.
      if (Number.isInteger(value)) issues.push({ path, message: `expected float, got int ${value} (write ${value}.0)` });
      return value;
    case 'enum': {
      const v = plain(value);
      return (schema as EnumSchema).values.includes(v as EnumValue) ? v : fail();
    }
    case 'strOrList':
      if (typeof value === 'string') return [value];
      if (!Array.isArray(value)) return fail();
      return value.map((item, i) => {
        if (typeof item !== 'string') issues.push({ path: `${path}[${i}]`, message: `expected str, got ${describe(item)}` });
        return typeof item === 'string' ? item : undefined;
      });
    case 'list': return Array.isArray(value) ? checkList(schema as ListSchema, value, path, issues) : fail();
    case 'dict': return isMapping(value) ? checkDict(schema as DictSchema, value, path, issues) : fail();
    case 'object': return isMapping(value) ? checkObject(schema as ObjectSchema, value, path, issues) : fail();
    case 'anyOf': return checkAnyOf(schema as AnyOfSchema, value, path, issues, fail);
  }
}

function checkList(schema: ListSchema, value: unknown[], path: string, issues: ConfigIssue[]): unknown[] {
  const item = schema.item;
  return value.map((v, i) => (item ? check(item, v, `${path}[${i}]`, issues) : plain(v)));
}

function checkDict(schema: DictSchema, value: Record<string, unknown>, path: string, issues: ConfigIssue[]): Record<string, unknown> {
  const values = schema.values;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, values ? check(values, v, keyPath(path, k), issues) : plain(v)]),
  );
}

function defaultOf(field: Schema, path: string, issues: ConfigIssue[]): unknown {
  const value = structuredClone(field.defaultValue);
  // Object defaults go through their schema so `s.object({...}).default({})` fills nested defaults.
  return field.kind === 'object' ? check(field, value, path, issues) : value;
}

function checkObject(schema: ObjectSchema, value: Record<string, unknown>, path: string, issues: ConfigIssue[]): Record<string, unknown> {
  const before = issues.length;
  let out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    const field = Object.hasOwn(schema.fields, key) ? schema.fields[key] : undefined;
    const at = keyPath(path, key);
    if (field) {
      const n = issues.length;
      const v = check(field, raw, at, issues);
      // A bad value is replaced by the default, so a best-effort result stays well-typed.
      if (v !== undefined) out[key] = v;
      else if (issues.length > n && field.hasDefault) out[key] = defaultOf(field, at, []);
    } else if (schema.extra === true) {
      out[key] = plain(raw);
    } else if (schema.extra) {
      out[key] = check(schema.extra, raw, at, issues);
    } else {
      issues.push({ path: at, message: 'extra keys not allowed' });
    }
  }
  for (const [key, field] of Object.entries(schema.fields)) {
    if (Object.hasOwn(value, key)) continue;
    if (field.isRequired) issues.push({ path: keyPath(path, key), message: 'required key not provided', ...(field.runtimeOptional ? { runtimeOptional: true } : {}) });
    else if (field.hasDefault) out[key] = defaultOf(field, keyPath(path, key), issues);
  }
  for (const group of schema.groups) {
    const present = group.keys.filter((k) => Object.hasOwn(value, k));
    const names = group.keys.map((k) => JSON.stringify(k)).join(', ');
    if (present.length > 1 && group.rule !== 'atLeastOne') {
      issues.push({ path, message: `only one of ${names} may be given, not ${present.map((k) => JSON.stringify(k)).join(' and ')}` });
    } else if (present.length === 0 && group.rule !== 'atMostOne') {
      issues.push({ path, message: `${group.rule === 'exactlyOne' ? 'exactly' : 'at least'} one of ${names} is required`, ...(group.runtimeOptional ? { runtimeOptional: true } : {}) });
    }
  }
  // Issues the launcher tolerates (runtimeOptional) still let the value be completed.
  if (issues.slice(before).every((i) => i.runtimeOptional)) for (const transform of schema.transforms) out = transform({ ...out });
  return out;
}

function checkAnyOf(schema: AnyOfSchema, value: unknown, path: string, issues: ConfigIssue[], fail: () => undefined): unknown {
  for (const alternative of schema.alternatives) {
    const scratch: ConfigIssue[] = [];
    const v = check(alternative, value, path, scratch);
    if (scratch.length === 0) return v;
  }
  // For a mapping, the object alternative's own issues say more than "expected a or b".
  const objectAlternative = schema.alternatives.find((a) => a.kind === 'object');
  if (isMapping(value) && objectAlternative) return check(objectAlternative, value, path, issues);
  return fail();
}
