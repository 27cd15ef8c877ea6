import { isObjectSchema, s } from './config-schema';
import { formatIssue, keyPath, validate, type ConfigIssue } from './config-validation';
import { ConfigYamlError, parseConfigYaml, YamlFloat } from './config-yaml';

const y = (text: string): unknown => parseConfigYaml(text, 'test.yaml');
const paths = (issues: ConfigIssue[]): string[] => issues.map((i) => `${i.path}: ${i.message}`);

describe('schema DSL', () => {
  const label = s
    .object({
      name: s.str().required(),
      diskimage: s.str(),
      'cloud-image': s.str(),
      'min-ram': s.int(),
      'flavor-name': s.str(),
      'volume-size': s.int().default(50),
    })
    .exactlyOne('diskimage', 'cloud-image')
    .atLeastOne('min-ram', 'flavor-name');
  const provider = s.object({
    name: s.str().required(),
    rate: s.number().default(1),
    pools: s.list(s.object({ name: s.str().required(), labels: s.list(label).default([]) })).default([]),
  });

  it('fills defaults and accepts a valid value', () => {
    const result = validate(provider, y('name: p\npools:\n  - name: main\n    labels:\n      - {name: a, diskimage: d, min-ram: 1}\n'));
    expect(result.issues).toEqual([]);
    expect(result.value).toEqual({
      name: 'p', rate: 1,
      pools: [{ name: 'main', labels: [{ name: 'a', diskimage: 'd', 'min-ram': 1, 'volume-size': 50 }] }],
    });
  });

  it('reports every issue with its full key path, relative to the base path', () => {
    const value = y(`
pools:
  - name: main
    labels:
      - name: ok
        cloud-image: c
        flavor-name: f
      - name: bad
        diskimage: d
        cloud-image: c
        flavor-name: 3
        bogus: true
      - cloud-image: c
`);
    expect(paths(validate(provider, value, 'providers[2]').issues)).toEqual([
      'providers[2].pools[0].labels[1].flavor-name: expected str, got int 3',
      'providers[2].pools[0].labels[1].bogus: extra keys not allowed',
      'providers[2].pools[0].labels[1]: only one of "diskimage", "cloud-image" may be given, not "diskimage" and "cloud-image"',
      'providers[2].pools[0].labels[2].name: required key not provided',
      'providers[2].pools[0].labels[2]: at least one of "min-ram", "flavor-name" is required',
      'providers[2].name: required key not provided',
    ]);
  });

  it('reports a missing member of an exactly-one group', () => {
    expect(paths(validate(label, { name: 'x', 'min-ram': 1 }).issues)).toEqual([': exactly one of "diskimage", "cloud-image" is required']);
  });

  it('supports at-most-one groups (voluptuous Exclusive) where none is fine', () => {
    const image = s.object({ name: s.str(), 'image-id': s.str(), 'image-name': s.str() }).exclusive('image-id', 'image-name');
    expect(validate(image, { name: 'x' }).issues).toEqual([]);
    expect(validate(image, { 'image-id': 'a', 'image-name': 'b' }).issues).toHaveLength(1);
  });

  it('is strict about int: no booleans, no floats', () => {
    const schema = s.object({ n: s.int() });
    expect(validate(schema, y('n: 3')).issues).toEqual([]);
    expect(paths(validate(schema, y('n: true')).issues)).toEqual(['n: expected int, got bool true']);
    expect(paths(validate(schema, y('n: 3.0')).issues)).toEqual(['n: expected int, got float 3.0']);
    expect(paths(validate(schema, y('n: "3"')).issues)).toEqual(['n: expected int, got str "3"']);
  });

  it('requires a YAML float for float, keeping an int value usable', () => {
    const schema = s.object({ t: s.float().default(10) });
    expect(validate(schema, y('t: 30.0'))).toEqual({ value: { t: 30 }, issues: [] });
    expect(validate(schema, y('t: 30'))).toEqual({ value: { t: 30 }, issues: [{ path: 't', message: 'expected float, got int 30 (write 30.0)' }] });
    expect(validate(schema, { t: 2.5 }).issues).toEqual([]);
    expect(validate(schema, {}).value).toEqual({ t: 10 });
  });

  it('number takes ints and floats and unboxes them', () => {
    const schema = s.object({ rate: s.number() });
    expect(validate(schema, y('rate: 2')).value).toEqual({ rate: 2 });
    expect(validate(schema, y('rate: 0.5')).value).toEqual({ rate: 0.5 });
    expect(validate(schema, y('rate: fast')).issues).toHaveLength(1);
  });

  it('reads YAML 1.1 booleans like PyYAML', () => {
    expect(validate(s.object({ a: s.bool(), b: s.bool() }), y('a: no\nb: On')).value).toEqual({ a: false, b: true });
  });

  it('normalizes string-or-list to a list and checks the items', () => {
    const schema = s.object({ labels: s.strOrList() });
    expect(validate(schema, y('labels: small')).value).toEqual({ labels: ['small'] });
    expect(validate(schema, y('labels: [a, b]')).value).toEqual({ labels: ['a', 'b'] });
    expect(paths(validate(schema, y('labels: [a, 1]')).issues)).toEqual(['labels[1]: expected str, got int 1']);
    expect(paths(validate(schema, y('labels: {a: 1}')).issues)).toEqual(['labels: expected str or a list of str, got dict']);
  });

  it('checks enums, dicts and any, unboxing floats everywhere', () => {
    const schema = s.object({ kind: s.enum('ssh', 'winrm'), env: s.dict(s.str()), meta: s.dict(), free: s.any() });
    const result = validate(schema, y('kind: ssh\nenv: {A: x}\nmeta: {a: 1.5, b: [2.0]}\nfree: [{x: 0.5}]'));
    expect(result).toEqual({ value: { kind: 'ssh', env: { A: 'x' }, meta: { a: 1.5, b: [2] }, free: [{ x: 0.5 }] }, issues: [] });
    expect(JSON.stringify(result.value)).not.toContain('value');
    expect(paths(validate(schema, y('kind: rdp\nenv: {A: 1}')).issues)).toEqual([
      'kind: expected one of "ssh", "winrm", got str "rdp"',
      'env.A: expected str, got int 1',
    ]);
  });

  it('lets open objects take unknown keys, checked against a value schema when given', () => {
    const limits = s.object({ 'tenant-name': s.str().required() }).open(s.int());
    expect(validate(limits, y('tenant-name: t\ngpus: 2')).value).toEqual({ 'tenant-name': 't', gpus: 2 });
    expect(paths(validate(limits, y('tenant-name: t\ngpus: many')).issues)).toEqual(['gpus: expected int, got str "many"']);
    expect(validate(s.object({}).open(), { anything: 1 }).issues).toEqual([]);
  });

  it('takes the first matching alternative of anyOf', () => {
    const schema = s.object({ release: s.anyOf(s.str(), s.int()) });
    expect(validate(schema, y('release: 22')).value).toEqual({ release: 22 });
    expect(paths(validate(schema, y('release: [1]')).issues)).toEqual(['release: expected str or int, got list']);
  });

  it('accepts null only for nullable schemas; a default fills an absent key, not a null one', () => {
    const schema = s.object({ a: s.str().nullable().default(null), b: s.int().default(1) });
    expect(validate(schema, {}).value).toEqual({ a: null, b: 1 });
    expect(validate(schema, y('a:\n')).value).toEqual({ a: null, b: 1 });
    expect(paths(validate(schema, y('b:\n')).issues)).toEqual(['b: expected int, got null']);
  });

  it('validates object defaults so nested defaults fill, and copies defaults', () => {
    const schema = s.object({ webapp: s.object({ port: s.int().default(8005) }).default({}), tags: s.list().default([]) });
    const a = validate<{ tags: unknown[] }>(schema, {}).value;
    const b = validate<{ tags: unknown[] }>(schema, {}).value;
    expect(a).toEqual({ webapp: { port: 8005 }, tags: [] });
    a.tags.push(1);
    expect(b.tags).toEqual([]);
  });

  it('replaces a bad value by its default in the best-effort result', () => {
    const result = validate(s.object({ n: s.int().default(3) }), { n: 'x' });
    expect(result.value).toEqual({ n: 3 });
    expect(result.issues).toHaveLength(1);
  });

  it('rejects a non-mapping where an object is expected', () => {
    expect(paths(validate(s.object({}), [1], 'providers[0]').issues)).toEqual(['providers[0]: expected a dictionary, got list']);
    expect(paths(validate(s.object({}), null).issues)).toEqual([': expected a dictionary, got null']);
  });

  it('runs transforms only on valid objects', () => {
    const node = s
      .object({ 'connection-port': s.int(), 'ssh-port': s.int() })
      .transform((v) => ({ ...v, 'connection-port': v['connection-port'] ?? v['ssh-port'] ?? 22 }));
    expect(validate(node, { 'ssh-port': 2022 }).value).toEqual({ 'ssh-port': 2022, 'connection-port': 2022 });
    expect(validate(node, {}).value).toEqual({ 'connection-port': 22 });
    expect(validate(node, { 'ssh-port': 'x' }).value).toEqual({});
  });

  it('extends without touching the original, the extension winning on shared keys', () => {
    const base = s.object({ a: s.str(), shared: s.str() });
    const more = base.extend({ b: s.int().required(), shared: s.int() });
    expect(validate(base, { a: 'x', b: 1 }).issues).toHaveLength(1);
    expect(validate(more, { a: 'x', b: 1, shared: 2 }).issues).toEqual([]);
    expect(Object.keys(base.fields)).toEqual(['a', 'shared']);
    const list = s.list(base).default([]);
    const extended = list.withItem(more);
    expect(extended.hasDefault).toBe(true);
    expect(extended.item).toBe(more);
    expect(list.item).toBe(base);
  });

  it('modifiers return copies', () => {
    const str = s.str();
    const req = str.required();
    expect(str.isRequired).toBe(false);
    expect(req.isRequired).toBe(true);
    expect(req.kind).toBe('str');
    expect(isObjectSchema(s.object({}).required())).toBe(true);
    expect(isObjectSchema(s.str())).toBe(false);
    expect(isObjectSchema({})).toBe(false);
  });

  it('renders key paths and issues', () => {
    expect(keyPath('', 'labels')).toBe('labels');
    expect(keyPath('providers[0]', 'max-servers')).toBe('providers[0].max-servers');
    expect(keyPath('env', 'a b')).toBe('env["a b"]');
    expect(formatIssue({ path: 'labels[0].name', message: 'required key not provided' }, '/etc/np.yaml')).toBe(
      '/etc/np.yaml: labels[0].name: required key not provided',
    );
    expect(formatIssue({ path: '', message: 'bad' }, '/f')).toBe('/f: bad');
  });
});

describe('parseConfigYaml', () => {
  it('boxes floats, keeps dates as strings, supports merge keys, returns null for empty text', () => {
    expect(y('a: 1\nb: 1.0\nd: 2024-01-01\nbase: &b {x: 1}\nm: {<<: *b, y: 2}')).toEqual({
      a: 1, b: new YamlFloat(1), d: '2024-01-01', base: { x: 1 }, m: { x: 1, y: 2 },
    });
    expect(y('')).toBeNull();
    expect(y('# only a comment\n')).toBeNull();
  });

  it('reports syntax errors with line and column', () => {
    let error: unknown;
    try {
      y('a: 1\nb: [1\nc: 2\n');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigYamlError);
    expect((error as ConfigYamlError).line).toBe(3);
    expect((error as ConfigYamlError).message).toMatch(/at line 3, column 1$/);
    expect((error as ConfigYamlError).snippet).toContain('b: [1');
  });

  it('rejects duplicate keys', () => {
    expect(() => y('a: 1\na: 2')).toThrow(/duplicated mapping key at line 2/);
  });
});
