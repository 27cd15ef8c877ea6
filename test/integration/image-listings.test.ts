/**
 * The image listings (`/image-list`, `/dib-image-list`, `/image-status` and the CLI commands of
 * the same names) against a real ZooKeeper holding znodes shaped like a Python nodepool-builder
 * writes them: uuid build ids, sequential uploads, kazoo `lock` dirs, the `pause` and
 * `request-build` flags, and one malformed upload that must be skipped and named.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kernel } from '../../src/kernel/kernel';
import { nodepoolMain, type CliIo } from '../../src/cli/nodepool-cli';
import { quietLogger } from '../../src/cli/cli-zk';
import { ZkClient } from '../../src/zk/zk-client';
import { SAMPLES_DIR } from '../support/spec-samples';
import { startWebKernel } from '../support/web-kernel';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

let server: ZooKeeperServer;
let client: ZkClient;
let kernel: Kernel;
let base: string;
let tmp: string;
let config: string;

const sample = (name: string): string => fs.readFileSync(path.join(SAMPLES_DIR, 'cli-web', name), 'utf8');
const headersOf = (text: string): string[] => text.split('\n')[1].slice(2, -2).split(' | ').map((c) => c.trim());

const UBUNTU_READY = '5f0c2a7e9d1b4c3a8e6f7a9b0c1d2e3f';
const UBUNTU_BUILDING = '9a8b7c6d5e4f40312a1b2c3d4e5f6a7b';
const CENTOS_READY = '0123456789ab4cdeaf0123456789abcd';
const T0 = 1764100000.25;

async function get(p: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}${p}`, { headers });
  return { status: res.status, body: await res.text() };
}

async function json(p: string): Promise<Record<string, unknown>[]> {
  return JSON.parse((await get(`${p}.json`)).body) as Record<string, unknown>[];
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = {
    out: '', err: '', env: {} as NodeJS.ProcessEnv,
    stdout: (t: string) => void (r.out += t),
    stderr: (t: string) => void (r.err += t),
  };
  const code = await nodepoolMain(['-c', config, ...args], r as CliIo);
  return { code, out: r.out, err: r.err };
}

/** Polls `probe` until it returns true (the web copy follows ZooKeeper by watches). */
async function eventually(probe: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const body = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const put = (p: string, v?: unknown): Promise<string> => client.create(p, v === undefined ? undefined : body(v), { makeParents: true });

/** Writes a build and its uploads like nodepool-builder does (lock dirs included). */
async function writeBuild(image: string, id: string, build: Record<string, unknown>, uploads: Record<string, unknown[]> = {}): Promise<void> {
  const buildPath = `/nodepool/images/${image}/builds/${id}`;
  await put(buildPath, { builder_id: 'b-uuid', username: 'zuul', python_path: 'auto', ...build });
  await client.ensurePath(`/nodepool/images/${image}/builds/lock`);
  await client.ensurePath(`${buildPath}/lock`);
  for (const [provider, records] of Object.entries(uploads)) {
    const dir = `${buildPath}/providers/${provider}/images`;
    await client.ensurePath(`${dir}/lock`);
    for (const r of records) await client.create(`${dir}/`, typeof r === 'string' ? body(r) : body({ format: 'qcow2', username: 'zuul', ...(r as object) }), { sequential: true });
  }
}

async function writeBuilderTree(): Promise<void> {
  await writeBuild('ubuntu', UBUNTU_READY, { state: 'ready', state_time: T0, builder: 'builder01', formats: 'qcow2,raw' }, {
    'cloud-a': [{ state: 'ready', state_time: T0 + 10, external_id: 'glance-1', external_name: 'ubuntu-1764100000' }],
    'cloud-b': [{ state: 'uploading', state_time: T0 + 20 }],
  });
  await writeBuild('ubuntu', UBUNTU_BUILDING, { state: 'building', state_time: T0 + 30, builder: 'builder01' });
  // Paused, with a manual build request waiting, and one upload that is not JSON.
  await writeBuild('centos', CENTOS_READY, { state: 'ready', state_time: T0 + 40, builder: 'builder02', formats: 'qcow2' }, {
    'cloud-a': ['{"state": "ready", "state_ti', { state: 'ready', state_time: T0 + 50, external_id: 'glance-2', external_name: 'centos-1' }],
  });
  await put('/nodepool/images/centos/pause');
  await put('/nodepool/images/centos/request-build');
}

beforeAll(async () => {
  server = await startZooKeeper();
  client = new ZkClient({ hosts: server.connectString, logger: quietLogger });
  await client.connect();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'image-listings-'));
  config = path.join(tmp, 'nodepool.yaml');
  fs.writeFileSync(config, `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\nlabels: []\nproviders: []\n`);
  ({ kernel, base } = await startWebKernel(server));
});

afterAll(async () => {
  await kernel?.stop();
  await client?.close();
  await server?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('image listings without a builder', () => {
  it('web and CLI print the empty tables of the captured sample', async () => {
    expect((await get('/image-list')).body).toBe(sample('web-image-list.txt'));
    expect((await get('/image-list.json')).body).toBe(sample('web-image-list.json'));
    expect(await json('/dib-image-list')).toEqual([]);
    expect(await json('/image-status')).toEqual([]);
    const cli = await run(['image-list']);
    expect(cli).toEqual({ code: 0, out: `${sample('web-image-list.txt')}\n`, err: '' });
    expect((await run(['image-status', '--json'])).out).toBe('[]\n');
  });
});

describe('image listings beside a builder', () => {
  beforeAll(async () => {
    await writeBuilderTree();
    // The web copy follows the builder by watches.
    await eventually(async () => {
      const status = await json('/image-status');
      return status.length === 2 && status[0].paused === true && status[0].build_request === 'pending' && (await json('/image-list')).length === 3;
    });
  });

  it('/image-list: one row per readable upload (the malformed one is skipped), int epoch ages', async () => {
    expect(await json('/image-list')).toEqual([
      { id: CENTOS_READY, upload_id: '0000000002', provider: 'cloud-a', image: 'centos', external_name: 'centos-1', external_id: 'glance-2', state: 'ready', age: Math.trunc(T0 + 50) },
      { id: UBUNTU_READY, upload_id: '0000000001', provider: 'cloud-a', image: 'ubuntu', external_name: 'ubuntu-1764100000', external_id: 'glance-1', state: 'ready', age: Math.trunc(T0 + 10) },
      { id: UBUNTU_READY, upload_id: '0000000001', provider: 'cloud-b', image: 'ubuntu', external_name: null, external_id: null, state: 'uploading', age: Math.trunc(T0 + 20) },
    ]);
  });

  it('/dib-image-list and /image-status show builds, the pause flag and the build request', async () => {
    expect(await json('/dib-image-list')).toEqual([
      { id: `centos-${CENTOS_READY}`, image: 'centos', builder: 'builder02', formats: ['qcow2'], state: 'paused', age: Math.trunc(T0 + 40) },
      { id: `ubuntu-${UBUNTU_READY}`, image: 'ubuntu', builder: 'builder01', formats: ['qcow2', 'raw'], state: 'ready', age: Math.trunc(T0) },
      { id: `ubuntu-${UBUNTU_BUILDING}`, image: 'ubuntu', builder: 'builder01', formats: [], state: 'building', age: Math.trunc(T0 + 30) },
    ]);
    const status = await json('/image-status');
    expect(status).toEqual([
      { image: 'centos', paused: true, build_request: 'pending', build_request_age: expect.any(Number) },
      { image: 'ubuntu', paused: false, build_request: null, build_request_age: null },
    ]);
    expect(Math.abs((status[0].build_request_age as number) - Date.now() / 1000)).toBeLessThan(60);
  });

  it('text answers carry Nodepool\'s columns and DD:HH:MM:SS ages', async () => {
    const list = (await get('/image-list')).body;
    expect(headersOf(list)).toEqual(headersOf(sample('web-image-list.txt')));
    expect(list).toMatch(/\| ready +\| \d{2,}:\d\d:\d\d:\d\d \|/);
    expect(headersOf((await get('/dib-image-list')).body)).toEqual(['ID', 'Image', 'Builder', 'Formats', 'State', 'Age']);
    expect((await get('/dib-image-list')).body).toContain('| qcow2,raw |');
    expect(headersOf((await get('/image-status')).body)).toEqual(['Image', 'Paused', 'Build Request', 'Build Request Age']);
    expect((await get('/image-status?fields=image,paused')).body.split('\n')[3]).toBe('| centos | True   |');
  });

  it('the CLI prints the same rows and names the malformed znode on stderr', async () => {
    const list = await run(['image-list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)).toEqual(await json('/image-list'));
    const bad = `/nodepool/images/centos/builds/${CENTOS_READY}/providers/cloud-a/images/0000000001`;
    expect(list.err.split('\n')).toEqual([expect.stringMatching(/^skipping unreadable \S+: invalid JSON \(/), '']);
    expect(list.err).toContain(`${bad}: invalid JSON`);
    for (const name of ['dib-image-list', 'image-status']) {
      const text = await run([name]);
      expect(text.code).toBe(0);
      expect(headersOf(text.out)).toEqual(headersOf((await get(`/${name}`)).body));
      expect(JSON.parse((await run([name, '--json'])).out)).toEqual(await json(`/${name}`));
    }
  });

  it('follows the builder: a build-lock contender makes the request building; removal empties the lists', async () => {
    const contender = await client.create(`/nodepool/images/centos/builds/lock/${'a'.repeat(32)}__lock__`, undefined, { ephemeral: true, sequential: true });
    await eventually(async () => (await json('/image-status'))[0].build_request === 'building');
    await client.delete(contender);
    await client.delete('/nodepool/images/centos/pause');
    await eventually(async () => (await json('/dib-image-list'))[0].state === 'ready');
    await client.deleteRecursive('/nodepool/images');
    await eventually(async () => (await json('/image-status')).length === 0);
    expect((await get('/image-list')).body).toBe(sample('web-image-list.txt'));
  });
});

describe('image-changing commands on the builder records', () => {
  beforeAll(async () => {
    await client.deleteRecursive('/nodepool/images').catch(() => undefined);
    await writeBuilderTree();
  });
  const read = async (p: string): Promise<Record<string, unknown>> => JSON.parse((await client.get(p)).data!.toString()) as Record<string, unknown>;

  it('image-pause and image-unpause set and clear the pause flag, twice is fine; an unknown image is one line', async () => {
    expect((await run(['image-pause', 'ubuntu'])).code).toBe(0);
    expect(await client.exists('/nodepool/images/ubuntu/pause')).toBeTruthy();
    expect((await run(['image-pause', 'ubuntu'])).code).toBe(0);
    expect((await run(['image-unpause', 'ubuntu'])).code).toBe(0);
    expect((await run(['image-unpause', 'ubuntu'])).code).toBe(0);
    expect(await client.exists('/nodepool/images/ubuntu/pause')).toBeNull();
    const missing = await run(['image-pause', 'nosuch']);
    expect([missing.code, missing.err]).toEqual([1, 'nodepool: image nosuch not found in ZooKeeper\n']);
  });

  it('dib-image-delete marks a build deleting, keeps its other keys, refuses one in progress', async () => {
    const ready = `/nodepool/images/ubuntu/builds/${UBUNTU_READY}`;
    const before = await read(ready);
    expect(await run(['dib-image-delete', `ubuntu-${UBUNTU_BUILDING}`])).toMatchObject({ code: 0, out: 'Cannot delete a build in progress\n' });
    expect((await read(`/nodepool/images/ubuntu/builds/${UBUNTU_BUILDING}`)).state).toBe('building');
    expect(await run(['dib-image-delete', `ubuntu-${UBUNTU_READY}`])).toMatchObject({ code: 0, out: '' });
    const after = await read(ready);
    expect(after).toMatchObject({ ...before, state: 'deleting', state_time: after.state_time });
    expect(after.state_time as number).toBeGreaterThan(before.state_time as number);
    expect(await run(['dib-image-delete', 'ubuntu-nosuch'])).toMatchObject({ code: 0, out: 'Build ubuntu-nosuch not found\n' });
  });

  it('image-delete marks an upload deleting, refuses one uploading, needs every id', async () => {
    const uploads = `/nodepool/images/ubuntu/builds/${UBUNTU_READY}/providers`;
    const [readyId] = (await client.getChildren(`${uploads}/cloud-a/images`)).filter((n) => n !== 'lock');
    const [uploadingId] = (await client.getChildren(`${uploads}/cloud-b/images`)).filter((n) => n !== 'lock');
    const args = (provider: string, id: string): string[] => ['image-delete', '--provider', provider, '--image', 'ubuntu', '--build-id', UBUNTU_READY, '--upload-id', id];
    expect(await run(args('cloud-b', uploadingId))).toMatchObject({ code: 0, out: 'Cannot delete because image upload in progress\n' });
    expect(await run(args('cloud-a', readyId))).toMatchObject({ code: 0, out: '' });
    expect(await read(`${uploads}/cloud-a/images/${readyId}`)).toMatchObject({ state: 'deleting', external_id: 'glance-1' });
    expect(await run(args('cloud-a', '0000009999'))).toMatchObject({ code: 0, out: 'Image upload not found\n' });
    expect((await run(['image-delete', '--provider', 'cloud-a'])).code).toBe(2);
  });
});

describe('image-build', () => {
  it('asks the builder for a build of a diskimage of nodepool.yaml; refuses others and paused ones in one line', async () => {
    const withImages = path.join(tmp, 'images.yaml');
    fs.writeFileSync(withImages, `zookeeper-servers:\n  - host: ${server.host}\n    port: ${server.port}\ndiskimages:\n  - name: fresh\n  - name: frozen\n    pause: true\nlabels: []\nproviders: []\n`);
    const build = async (image: string): Promise<{ code: number; err: string }> => {
      const r = { out: '', err: '', env: {} as NodeJS.ProcessEnv, stdout: (t: string) => void (r.out += t), stderr: (t: string) => void (r.err += t) };
      return { code: await nodepoolMain(['-c', withImages, 'image-build', image], r as CliIo), err: r.err };
    };
    expect(await build('fresh')).toEqual({ code: 0, err: '' });
    expect(await client.exists('/nodepool/images/fresh/request-build')).toBeTruthy();
    expect(await build('frozen')).toEqual({ code: 1, err: 'nodepool: Skipping build request for image frozen; paused\n' });
    expect(await build('nosuch')).toEqual({ code: 1, err: 'nodepool: Trying to build a non disk-image-builder image: nosuch\n' });
    expect(await client.exists('/nodepool/images/frozen/request-build')).toBeNull();
  });
});
