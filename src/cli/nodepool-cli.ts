import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { runConfigValidate } from '../kernel/config/config-validate';
import { loadLauncherSettings } from '../kernel/config/launcher-settings-loader';
import { Kernel } from '../kernel/kernel';
import { VERSION } from '../kernel/services/launcher-component';
import { withNodepoolZk } from './cli-zk';
import { alienImageListCommand } from './alien-image-list';
import { deleteCommand, eraseCommand, holdCommand, type AskLine } from './node-commands';
import { runRequestCommand } from './request-command';
import { returnCommand } from './return-command';
import { exportImageDataCommand, importImageDataCommand } from './image-data';
import { dibImageDeleteCommand, imageBuildCommand, imageDeleteCommand, imagePauseCommand } from './image-changes';
import { loadNodepoolConfig } from '../kernel/config/nodepool-config-loader';
import { imageListingText, type ImageListing } from './image-commands';
import { infoText, labelListText, nodeListText, requestListText } from './status-commands';

/** Where the CLI writes; tests pass buffers. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Prompts and reads one line (erase's confirmation); default: the terminal. */
  ask?: AskLine;
  /** Aborted to interrupt `request` (waiting or holding); default: SIGINT or SIGTERM. */
  interrupt?: AbortSignal;
}

/** SIGINT/SIGTERM as an abort signal while `run` runs (then Node's default handling again). */
async function withProcessInterrupt<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await run(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A number-of-seconds argument: finite and >= 0, else a usage error naming the flag. */
function seconds(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} expects a number of seconds >= 0, got ${JSON.stringify(value)}`);
    if (n > 2_000_000) throw new InvalidArgumentError(`${flag} expects at most 2000000 seconds, got ${value}`);
    return n;
  };
}

/** A request priority: 1-3 digits (Zuul: 100, 200, 300). */
function priority(value: string): string {
  if (!/^\d{1,3}$/.test(value)) throw new InvalidArgumentError(`expects 1-3 digits (Zuul uses 100, 200, 300), got ${JSON.stringify(value)}`);
  return value.padStart(3, '0');
}

const defaultIo: CliIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  env: process.env,
};

/** Python `input()`: prompt on stdout, one line from stdin without its newline; '' at EOF. */
const askTerminal: AskLine = async (prompt) => {
  const readline = await import('node:readline');
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  process.stdout.write(prompt);
  try {
    return await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
  } finally {
    rl.close();
  }
};

/** Nodepool's log line shape: `<asctime> <LEVEL> <logger>: <msg>`. */
function logLine(logger: string, level: 'info' | 'error', msg: string): string {
  const d = new Date();
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const asctime = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`;
  return `${asctime} ${level.toUpperCase()} ${logger}: ${msg}\n`;
}

/**
 * `nodepool`: Nodepool's operator CLI. Global options as Nodepool's (`-c`, `-s`, `--debug`,
 * `-l`, `--version`); no subcommand prints the help and exits 1.
 */
export async function nodepoolMain(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const program = new Command('nodepool')
    .description('Node pool.')
    .option('-l <logconfig>', 'path to log config file (accepted; logging goes to stderr)')
    .option('-c <config>', 'path to config file', '/etc/nodepool/nodepool.yaml')
    .option('-s <secure>', 'path to secure file')
    .option('--debug', 'show DEBUG level logging', false)
    .version(`Nodepool version: ${VERSION} (nodepool-ts)`, '--version', 'show nodepool version')
    .helpOption('-h, --help', 'show this help message and exit')
    // Nodepool has no `help` command (argparse: invalid choice, exit 2); `-h` works everywhere.
    .helpCommand(false)
    // Settings that subcommands inherit: argparse is strict, and so are we.
    .allowUnknownOption(false)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (text, write) => write(`nodepool: ${text}`) });

  let exitCode = 0;
  program
    .command('config-validate')
    .description('Validate configuration file')
    .action(async () => {
      const { c: file, s: secure } = program.opts<{ c: string; s?: string }>();
      // Only the plugins are needed (their driver schemas); nothing connects anywhere.
      const settings = loadLauncherSettings({ env: io.env, overrides: { config: file, log: { level: 'error' } } });
      const kernel = await Kernel.create({ settings: { ...settings, tracing: { ...settings.tracing, exporter: 'none' } } });
      exitCode = runConfigValidate({
        file, secure: secure ?? null, drivers: kernel.drivers.all(), pluginFailures: kernel.pluginFailures, env: io.env,
        log: (line, level = 'error') => io.stderr(logLine('nodepool.cmd.config_validator', level, line)),
      });
      await kernel.stop();
    });

  program
    .command('request')
    .description('ask for nodes (nodepool-ts addition); with --wait take them as Zuul does, hold them until Ctrl-C or --hold-for, then give them back')
    .argument('<labels...>', 'labels to request, one node each')
    .option('--wait', 'wait for the nodes, lock them (in-use) and hold them; otherwise submit and exit (give them back with `nodepool return ID`)', false)
    .option('--timeout <seconds>', 'how long --wait waits for fulfilment before deleting the request', seconds('--timeout'), 300)
    .option('--hold-for <seconds>', 'give the nodes back after this many seconds instead of at Ctrl-C (implies --wait)', seconds('--hold-for'))
    .option('--priority <nnn>', 'request priority prefix (Zuul: 100, 200, 300)', priority, '100')
    .action(async (labels: string[], cmd: { wait: boolean; timeout: number; holdFor?: number; priority: string }) => {
      const wait = cmd.wait || cmd.holdFor !== undefined;
      const run = (interrupt: AbortSignal): Promise<number> => runRequestCommand({ ...zkOptions(), labels, ...cmd, wait, out: io.stdout, interrupt });
      exitCode = io.interrupt ? await run(io.interrupt) : await withProcessInterrupt(run);
    });

  program
    .command('return')
    .description('give back a request\'s nodes (deleting the request) or one node: state used, as Zuul returns nodes (nodepool-ts addition)')
    .argument('<id>', 'request id (100-0000000001) or node id')
    .action(async (id: string) => {
      exitCode = await withNodepoolZk(zkOptions(), (zk) => returnCommand(zk, id, io.stdout));
    });

  program
    .command('export-image-data')
    .description('Export image data from ZooKeeper')
    .argument('<path>', 'Export file path')
    .action(async (file: string) => {
      exitCode = await withNodepoolZk(zkOptions(), (zk) => exportImageDataCommand(zk, file));
    });

  program
    .command('import-image-data')
    .description('Import image data to ZooKeeper')
    .argument('<path>', 'Import file path')
    .action(async (file: string) => {
      exitCode = await withNodepoolZk(zkOptions(), (zk) => importImageDataCommand(zk, file));
    });

  program
    .command('alien-image-list')
    .description('list images not accounted for by nodepool')
    .argument('[provider]', 'provider name')
    .action(async (provider?: string) => {
      const options = zkOptions();
      exitCode = await withNodepoolZk(options, (zk) => alienImageListCommand(zk, provider, options, io.stdout, io.stderr));
    });

  const zkOptions = (): { config: string; secure?: string; env: NodeJS.ProcessEnv } => {
    const { c: config, s: secure } = program.opts<{ c: string; s?: string }>();
    return { config, secure, env: io.env };
  };
  const jsonOption = ['--json', 'print the web app\'s JSON instead of a table (nodepool-ts addition)'] as const;

  program
    .command('list')
    .description('list nodes')
    .option('--detail', 'Output detailed node info', false)
    .option(...jsonOption)
    .action(async (cmd: { detail: boolean; json?: boolean }) => {
      io.stdout(await withNodepoolZk(zkOptions(), (zk) => nodeListText(zk, cmd)));
    });

  program
    .command('request-list')
    .description('list the current node requests')
    .option(...jsonOption)
    .action(async (cmd: { json?: boolean }) => {
      io.stdout(await withNodepoolZk(zkOptions(), (zk) => requestListText(zk, cmd)));
    });

  program
    .command('label-list')
    .description('list the labels of all registered pools (nodepool-ts addition)')
    .option(...jsonOption)
    .action(async (cmd: { json?: boolean }) => {
      io.stdout(await withNodepoolZk(zkOptions(), (zk) => labelListText(zk, cmd)));
    });

  const imageCommands: [ImageListing, string][] = [
    ['image-list', 'list images from providers'],
    ['dib-image-list', 'list images built with diskimage-builder'],
    ['image-status', 'list image status'],
  ];
  for (const [name, description] of imageCommands) {
    program
      .command(name)
      .description(description)
      .option(...jsonOption)
      .action(async (cmd: { json?: boolean }) => {
        io.stdout(await withNodepoolZk(zkOptions(), (zk) => imageListingText(zk, name, { json: cmd.json, warn: io.stderr })));
      });
  }

  program
    .command('info')
    .description('Show provider data from zookeeper')
    .argument('<provider>', 'provider name')
    .action(async (provider: string) => {
      io.stdout(await withNodepoolZk(zkOptions(), (zk) => infoText(zk, provider)));
    });

  for (const [name, paused] of [['image-pause', true], ['image-unpause', false]] as const) {
    program
      .command(name)
      .description(paused ? 'pause an image' : 'unpause an image')
      .argument('<image>', 'image name')
      .action(async (image: string) => {
        exitCode = await withNodepoolZk(zkOptions(), (zk) => imagePauseCommand(zk, image, paused));
      });
  }

  program
    .command('image-build')
    .description('build image using diskimage-builder')
    .argument('<image>', 'image name')
    .action(async (image: string) => {
      const config = loadNodepoolConfig(zkOptions().config, zkOptions().secure ?? null, [], io.env, { runtime: true }).config;
      exitCode = await withNodepoolZk(zkOptions(), (zk) => imageBuildCommand(zk, config ?? { diskimages: new Map() }, image));
    });

  program
    .command('dib-image-delete')
    .description('Delete a dib built image from disk along with all cloud uploads of this image')
    .argument('<id>', 'dib image id')
    .action(async (id: string) => {
      exitCode = await withNodepoolZk(zkOptions(), (zk) => dibImageDeleteCommand(zk, id, io.stdout));
    });

  program
    .command('image-delete')
    .description('delete an image')
    .requiredOption('--provider <provider>', 'provider name')
    .requiredOption('--image <image>', 'image name')
    .requiredOption('--upload-id <id>', 'image upload id')
    .requiredOption('--build-id <id>', 'image build id')
    .action(async (cmd: { provider: string; image: string; uploadId: string; buildId: string }) => {
      exitCode = await withNodepoolZk(zkOptions(), (zk) => imageDeleteCommand(zk, cmd, io.stdout));
    });

  program
    .command('hold')
    .description('place a node in the HOLD state e.g. for running maintenance tasks')
    .argument('<id>', 'node id')
    // Nodepool's CLI takes the id alone (its comment stays as it was); --reason is ours.
    .option('--reason <reason>', 'Reason this node is held (stored as its comment)')
    .action(async (id: string, cmd: { reason?: string }) => {
      exitCode = await withNodepoolZk(zkOptions(), (zk) => holdCommand(zk, id, cmd.reason, io.stdout));
    });

  program
    .command('delete')
    .description('place a node in the DELETE state')
    .argument('<id>', 'node id')
    .option('--now', 'delete the node in the foreground', false)
    .action(async (id: string, cmd: { now: boolean }) => {
      const options = zkOptions();
      exitCode = await withNodepoolZk(options, (zk) => deleteCommand(zk, id, cmd.now ? options : undefined, io.stdout));
    });

  program
    .command('erase')
    .description('Erase provider data from zookeeper')
    .argument('<provider>', 'provider name')
    .option('--force', 'erase without asking', false)
    .action(async (provider: string, cmd: { force: boolean }) => {
      exitCode = await withNodepoolZk(zkOptions(), (zk) => eraseCommand(zk, provider, cmd.force, io.ask ?? askTerminal, io.stdout));
    });

  if (argv.length === 0) {
    io.stdout(program.helpInformation());
    return 1;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.stderr(`nodepool: ${(err as Error).message}\n`);
    return 1;
  }
  return exitCode;
}
