/**
 * Nodepool's daemon mode of `nodepool-launcher` (cmd/__init__.py `NodepoolDaemonApp`): without
 * `-d`/`-f` the launcher detaches. Node cannot fork, so the command re-runs itself as a detached
 * child in its own session (stdin closed, stdout/stderr to the log file or /dev/null); the
 * parent exits 0 once the child has written its pid file, or 1 with the reason when the child
 * could not get that far. As Nodepool's pid lock file, a pid file naming a live process stops
 * the start and a stale one is replaced.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Set in the detached child's environment: the pid file it must write (and own). */
export const DAEMON_CHILD_ENV = 'NODEPOOL_TS_DAEMON_PIDFILE';

/** What the child tells the parent over the IPC channel. */
type DaemonMessage = { pidfile: string } | { error: string };

/** How long the parent waits for the child's pid file before giving up. */
const START_TIMEOUT_MS = 60_000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Checks the pid file as Nodepool's lock file does: a file naming a running process (not this
 * one) is an error; a stale one is removed. Then exercises the path (created and removed), so a
 * missing directory is reported before anything starts.
 */
export function claimPidfile(pidfile: string): void {
  let text: string | undefined;
  try {
    text = fs.readFileSync(pidfile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the pid file ${pidfile}: ${(err as Error).message}`);
  }
  const pid = text === undefined ? NaN : Number.parseInt(text.trim(), 10);
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
    throw new Error(`the pid file ${pidfile} names process ${pid}, which is running (another launcher?)`);
  }
  try {
    fs.writeFileSync(pidfile, '');
    fs.rmSync(pidfile, { force: true });
  } catch (err) {
    throw new Error(`cannot write the pid file ${pidfile}: ${(err as Error).message} (give -p PIDFILE, or -f to stay in the foreground)`);
  }
}

/**
 * The parent's side: starts `script argv...` detached and resolves with the exit code of the
 * parent (0 once the child wrote `pidfile`). `logFile`, when given, receives the child's
 * stdout and stderr (appended); otherwise they go to /dev/null.
 */
export async function detachLauncher(script: string, argv: string[], pidfile: string, logFile: string | undefined, stderr: (t: string) => void): Promise<number> {
  try {
    claimPidfile(pidfile);
  } catch (err) {
    stderr(`nodepool-launcher: ${(err as Error).message}\n`);
    return 1;
  }
  let out: number;
  try {
    if (logFile) fs.mkdirSync(path.dirname(logFile), { recursive: true });
    out = fs.openSync(logFile ?? '/dev/null', 'a');
  } catch (err) {
    stderr(`nodepool-launcher: cannot open the log file ${logFile}: ${(err as Error).message} (give -l LOGCONFIG, or -f to stay in the foreground)\n`);
    return 1;
  }
  const child = spawn(process.execPath, [...process.execArgv, script, ...argv], {
    detached: true,
    stdio: ['ignore', out, out, 'ipc'],
    env: { ...process.env, [DAEMON_CHILD_ENV]: pidfile },
  });
  fs.closeSync(out);
  const where = logFile ? `; see ${logFile}` : '';
  const result = await new Promise<number>((settle) => {
    let settled = false;
    const resolve = (code: number): void => {
      if (!settled) settle(code);
      settled = true;
    };
    const timer = setTimeout(() => {
      stderr(`nodepool-launcher: the daemon did not write its pid file ${pidfile} within ${START_TIMEOUT_MS / 1000} s${where}\n`);
      resolve(1);
    }, START_TIMEOUT_MS);
    child.on('message', (message: DaemonMessage) => {
      clearTimeout(timer);
      if ('error' in message) {
        stderr(`nodepool-launcher: ${message.error}\n`);
        resolve(1);
      } else resolve(0);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!settled) stderr(`nodepool-launcher: the daemon exited (${signal ?? `code ${code}`}) before writing its pid file${where}\n`);
      resolve(1);
    });
  });
  child.removeAllListeners();
  if (child.connected) child.disconnect();
  child.unref();
  return result;
}

/**
 * The child's side, called once its pid file is written (or could not be): tells the parent
 * and closes the channel, so nothing ties the daemon to the terminal's process any more.
 */
export function reportToParent(message: DaemonMessage): void {
  if (!process.send) return;
  process.send(message, () => {
    if (process.connected) process.disconnect();
  });
}
