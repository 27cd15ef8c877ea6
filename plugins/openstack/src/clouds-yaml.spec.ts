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
});
