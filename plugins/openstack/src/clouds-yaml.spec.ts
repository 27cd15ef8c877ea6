import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CloudConfigError, loadCloudCredentials } from './clouds-yaml';

describe('loadCloudCredentials', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clouds-spec-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function write(rel: string, text: string): string {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  }

  const CLOUDS = `
clouds:
  mycloud:
    region_name: RegionOne
    private: true
    networks:
      - name: public
      - name: lan
        default_interface: true
    auth:
      auth_url: https://keystone.example:5000
      username: ci
      project_name: ci-project
      user_domain_name: Default
  appcred:
    auth_type: v3applicationcredential
    interface: internalURL
    auth:
      auth_url: https://keystone.example/v3
      application_credential_id: abc
      application_credential_secret: s3cret
`;

  it('reads OS_CLIENT_CONFIG_FILE and merges the password from secure.yaml beside ~/.config/openstack', () => {
    const file = write('cfg/clouds.yaml', CLOUDS);
    write('home/.config/openstack/secure.yaml', 'clouds:\n  mycloud:\n    auth:\n      password: from-secure\n');
    const c = loadCloudCredentials('mycloud', null, { OS_CLIENT_CONFIG_FILE: file, HOME: path.join(dir, 'home') });
    expect(c).toMatchObject({ name: 'mycloud', authType: 'password', regionName: 'RegionOne', interface: 'public', file, private: true, defaultNetwork: 'lan' });
    expect(c.auth).toMatchObject({ username: 'ci', password: 'from-secure', project_name: 'ci-project', auth_url: 'https://keystone.example:5000' });
  });

  it('finds ~/.config/openstack/clouds.yaml without the variable; region-name overrides the cloud region', () => {
    write('home/.config/openstack/clouds.yaml', CLOUDS);
    const c = loadCloudCredentials('appcred', 'RegionTwo', { HOME: path.join(dir, 'home') });
    expect(c).toMatchObject({ authType: 'application-credential', regionName: 'RegionTwo', interface: 'internal' });
    expect(c.auth.application_credential_secret).toBe('s3cret');
  });

  it('explains what is missing', () => {
    const file = write('clouds.yaml', CLOUDS);
    const env = { OS_CLIENT_CONFIG_FILE: file, HOME: path.join(dir, 'nohome') };
    expect(() => loadCloudCredentials('nope', null, env)).toThrow(`${file}: cloud nope is not defined`);
    expect(() => loadCloudCredentials('mycloud', null, env)).toThrow('password auth needs auth.username (or user_id) and auth.password');
    expect(() => loadCloudCredentials('mycloud', null, { HOME: path.join(dir, 'nohome'), OS_CLIENT_CONFIG_FILE: path.join(dir, 'missing.yaml') })).toThrow(CloudConfigError);
  });

  it('reports a YAML error by position only, never with the lines around it (they hold secrets)', () => {
    const file = write('clouds.yaml', 'clouds:\n  c:\n    auth:\n      password: Very-Secret-1\n      x: [\n');
    let message = '';
    try {
      loadCloudCredentials('c', null, { OS_CLIENT_CONFIG_FILE: file, HOME: dir });
    } catch (err) {
      expect(err).toBeInstanceOf(CloudConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/clouds\.yaml: YAML parsing failed: .* at line 6, column 1$/);
    expect(message).not.toContain('Very-Secret-1');
  });

  it('regions: the first when none is asked for, region values merged, an unknown region named', () => {
    const file = write('clouds.yaml', `
clouds:
  multi:
    auth: {auth_url: 'https://k.example/v3', username: u, password: p}
    regions:
      - east
      - name: west
        values: {interface: internal}
  one:
    region_name: RegionOne
    auth: {auth_url: 'https://k.example/v3', username: u, password: p}
`);
    const env = { OS_CLIENT_CONFIG_FILE: file, HOME: dir };
    expect(loadCloudCredentials('multi', null, env)).toMatchObject({ regionName: 'east', interface: 'public' });
    expect(loadCloudCredentials('multi', 'west', env)).toMatchObject({ regionName: 'west', interface: 'internal' });
    expect(() => loadCloudCredentials('multi', 'north', env)).toThrow(`${file}: region north is not a valid region name for cloud multi; valid choices are east, west`);
    expect(() => loadCloudCredentials('one', 'RegionTwo', env)).toThrow('region RegionTwo is not a valid region name for cloud one');
  });

  it('TLS: cacert, cert and key are read; verify: false and insecure turn the check off; unreadable files named', () => {
    const ca = write('ca.pem', 'CA PEM');
    const cert = write('c.pem', 'CERT PEM');
    const key = write('c.key', 'KEY PEM');
    const file = write('clouds.yaml', `
clouds:
  ca: {cacert: ${ca}, cert: ${cert}, key: ${key}, auth: {auth_url: 'https://k/v3', token: t}, auth_type: token}
  off: {verify: false, cacert: ${ca}, auth: {auth_url: 'https://k/v3', token: t}, auth_type: token}
  insecure: {insecure: true, auth: {auth_url: 'https://k/v3', token: t}, auth_type: token}
  missing: {cacert: ${dir}/nope.pem, auth: {auth_url: 'https://k/v3', token: t}, auth_type: token}
`);
    const env = { OS_CLIENT_CONFIG_FILE: file, HOME: dir };
    expect(loadCloudCredentials('ca', null, env).tls).toEqual({ verify: true, ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' });
    expect(loadCloudCredentials('off', null, env).tls).toEqual({ verify: false, ca: null, cert: null, key: null });
    expect(loadCloudCredentials('insecure', null, env).tls.verify).toBe(false);
    expect(() => loadCloudCredentials('missing', null, env)).toThrow(`cloud missing: cacert ${dir}/nope.pem: cannot read (ENOENT)`);
  });

  it('networks: external/internal, nat_destination, nat_source, default_interface; a nameless entry is an error', () => {
    const file = write('clouds.yaml', `
clouds:
  n:
    auth: {auth_url: 'https://k/v3', token: t}
    auth_type: token
    networks:
      - {name: pub, routes_externally: true}
      - {name: lan, nat_destination: true, default_interface: true}
      - {name: v6, routes_ipv6_externally: true}
      - {name: ext, nat_source: true, routes_externally: true}
  bad:
    auth: {auth_url: 'https://k/v3', token: t}
    auth_type: token
    networks: [{routes_externally: true}]
`);
    const env = { OS_CLIENT_CONFIG_FILE: file, HOME: dir };
    expect(loadCloudCredentials('n', null, env).networks).toEqual({
      external4: ['pub', 'ext'], external6: ['pub', 'v6', 'ext'], internal4: ['lan', 'v6'], natDestination: 'lan', natSource: 'ext', defaultInterface: 'lan',
    });
    expect(() => loadCloudCredentials('bad', null, env)).toThrow('cloud bad: networks[0] is missing required field name');
  });

  it('no cloud named: OS_CLOUD, else the OS_* variables, else the only cloud of clouds.yaml', () => {
    const one = write('one.yaml', `clouds:\n  only:\n    auth: {auth_url: 'https://k/v3', token: t}\n    auth_type: token\n`);
    const two = write('two.yaml', `clouds:\n  a: {auth: {auth_url: 'https://a/v3', token: t}, auth_type: token}\n  b: {auth: {auth_url: 'https://b/v3', token: t}, auth_type: token}\n`);
    expect(loadCloudCredentials(null, null, { OS_CLIENT_CONFIG_FILE: one, HOME: dir, OS_TESTBED_DIR: '/x', OS_REGION_NAME: 'r' }).name).toBe('only');
    expect(loadCloudCredentials(null, null, { OS_CLIENT_CONFIG_FILE: two, HOME: dir, OS_CLOUD: 'b' }).auth.auth_url).toBe('https://b/v3');
    const fromEnv = loadCloudCredentials(null, 'real-region', {
      OS_CLIENT_CONFIG_FILE: two, HOME: dir, OS_AUTH_URL: 'https://env/v3', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'pr', OS_INTERFACE: 'internal',
    });
    expect(fromEnv).toMatchObject({ name: 'envvars', regionName: 'real-region', interface: 'internal', file: 'OS_* environment variables' });
    expect(fromEnv.auth).toMatchObject({ auth_url: 'https://env/v3', username: 'u', password: 'p', project_name: 'pr' });
    expect(() => loadCloudCredentials(null, null, { OS_CLIENT_CONFIG_FILE: two, HOME: dir })).toThrow('the provider names no cloud, and neither OS_CLOUD');
  });

  it('profile: vendor defaults are not read; without auth_url that is a clear error', () => {
    const file = write('clouds.yaml', `
clouds:
  vendor: {profile: vexxhost, auth: {username: u, password: p}}
  own: {profile: vexxhost, auth: {auth_url: 'https://k/v3', username: u, password: p}}
`);
    const env = { OS_CLIENT_CONFIG_FILE: file, HOME: dir };
    expect(() => loadCloudCredentials('vendor', null, env)).toThrow('profile vexxhost (openstacksdk vendor defaults) is not supported; give auth.auth_url');
    expect(loadCloudCredentials('own', null, env).warnings).toEqual([expect.stringContaining('profile vexxhost is ignored')]);
  });
});
