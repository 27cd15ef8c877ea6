import { FALLBACK_LAUNCH_SETTINGS, launchSettings } from './launch-settings-defaults';

describe('launch settings defaults', () => {
  it('scan only nodes reached over SSH unless told; the engine fallback never scans', () => {
    expect(launchSettings()).toMatchObject({ launchRetries: 3, bootTimeout: 60, connectionType: 'ssh', connectionPort: 22, hostKeyChecking: true });
    expect(launchSettings({ connectionType: 'network_cli' }).hostKeyChecking).toBe(true);
    expect(launchSettings({ connectionType: 'winrm', connectionPort: 5986 })).toMatchObject({ hostKeyChecking: false, connectionPort: 5986 });
    expect(launchSettings({ connectionType: 'kubectl', hostKeyChecking: true }).hostKeyChecking).toBe(true);
    expect(FALLBACK_LAUNCH_SETTINGS).toMatchObject({ launchRetries: 3, launchTimeout: 3600, hostKeyChecking: false });
  });
});
