/**
 * The command line of `nodepool-launcher`: Nodepool's own flags (`-c`, `-s`, `-p`, `-l`, `-d`,
 * `-f`, `--no-webapp`) and one flag per launcher setting, generated from the settings schema so
 * `--help` lists every flag that works. Parsing is strict: an unknown flag, a flag without its
 * value or a stray argument is an error (exit 2, as argparse).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { launcherSettingsSchema } from '../kernel/config/launcher-settings-schema';
import { VERSION } from '../kernel/services/launcher-component';

/** Nodepool's pid file when `-p` is absent (`/var/run/nodepool/<app_name>.pid`). */
export const DEFAULT_PIDFILE = '/var/run/nodepool/nodepool.pid';

/** Nodepool's log file of a daemon started without `-l` (logconfig.py, `{server}.log`). */
export const DEFAULT_DAEMON_LOG = '/var/log/nodepool/nodepool.log';

/** Parsed Nodepool flags of `nodepool-launcher`. */
export interface LauncherFlags {
  config: string;
  secure?: string;
  quickstart?: boolean;
  /** `-d`: foreground with debug logging (Nodepool's "do not run as a daemon with debug logging"). */
  debug?: boolean;
  /** `-f`: foreground. */
  foreground?: boolean;
  webapp: boolean;
  pidfile?: string;
  logconfig?: string;
}

/** The parsed command line. */
export interface LauncherCommandLine {
  flags: LauncherFlags;
  /** Whether `-c` was given (the quickstart otherwise uses its own file). */
  configGiven: boolean;
  /** The settings flags that were given, as `--name=value` for the settings loader. */
  settingsArgs: string[];
}

/**
 * A flag's value, as argparse takes it: a following word that looks like another flag is not a
 * value (`--zk-hosts --log-level debug` would otherwise make `--log-level` the host list).
 */
function value(flag: string): (v: string) => string {
  return (v) => {
    if (v.startsWith('-') && !/^-\d/.test(v)) throw new InvalidArgumentError(`${flag} expects a value, got the flag ${v}`);
    return v;
  };
}

interface SettingsFlag {
  arg: string;
  doc: string;
  env?: string;
  defaultValue: unknown;
  choices?: string[];
}

function settingsFlags(): SettingsFlag[] {
  const out: SettingsFlag[] = [];
  const walk = (node: Record<string, unknown>): void => {
    for (const child of Object.values(node)) {
      if (typeof child !== 'object' || child === null) continue;
      const leaf = child as { arg?: string; doc?: string; env?: string; default?: unknown; format?: unknown };
      const choices = Array.isArray(leaf.format) ? leaf.format.map(String) : undefined;
      if (typeof leaf.arg === 'string') out.push({ arg: leaf.arg, doc: leaf.doc ?? '', env: leaf.env, defaultValue: leaf.default, choices });
      else walk(child as Record<string, unknown>);
    }
  };
  walk(launcherSettingsSchema() as unknown as Record<string, unknown>);
  return out;
}

// Settings flags that Nodepool's own flags already cover (-c, -s), or that are booleans spelled
// as Nodepool spells them (--no-webapp; the settings' --no-web is kept as its alias).
const COVERED = new Set(['config', 'secure', 'web']);

/** Builds the program; `writeOut`/`writeErr` receive help and errors. */
export function launcherProgram(writeOut: (t: string) => void, writeErr: (t: string) => void): Command {
  const program = new Command('nodepool-launcher')
    .description('Run a nodepool-ts launcher. Like Nodepool\'s it detaches as a daemon unless -d or -f is given.')
    .option('-c, --config <file>', 'path to config file', value('-c'), '/etc/nodepool/nodepool.yaml')
    .option('-s, --secure <file>', 'path to secure file', value('-s'))
    .option('-p, --pidfile <file>', `path to pid file (daemon default: ${DEFAULT_PIDFILE}; in the foreground written only when given)`, value('-p'))
    .option('-l, --logconfig <file>', 'path to log config file: a Python logging INI or dictConfig .yaml; its nodepool (else root) logger level and first handler', value('-l'))
    .option('-d, --debug', 'do not run as a daemon, with debug logging')
    .option('-f, --foreground', 'do not run as a daemon')
    .option('--no-webapp', 'do not serve the web status API')
    .option('--quickstart', 'run on config/quickstart.yaml in the foreground, starting a local ZooKeeper if none is configured')
    .option('--settings <file>', 'launcher settings file (YAML/JSON; env NODEPOOL_TS_SETTINGS)', value('--settings'));
  for (const flag of settingsFlags()) {
    if (COVERED.has(flag.arg)) continue;
    const env = flag.env ? `; env ${flag.env}` : '';
    const shown = flag.defaultValue === '' || flag.defaultValue === undefined || (Array.isArray(flag.defaultValue) && flag.defaultValue.length === 0)
      ? '' : `; default ${Array.isArray(flag.defaultValue) ? flag.defaultValue.join(',') : String(flag.defaultValue)}`;
    const choices = flag.choices ? ` (${flag.choices.join(', ')})` : '';
    program.addOption(new Option(`--${flag.arg} <value>`, `${flag.doc}${choices}${shown}${env}`).argParser(value(`--${flag.arg}`)));
  }
  program.addOption(new Option('--no-web', 'same as --no-webapp (env NODEPOOL_TS_WEB_ENABLED=false)'));
  return program
    .version(`Nodepool version: ${VERSION} (nodepool-ts)`, '--version', 'show nodepool version')
    .helpOption('-h, --help', 'show this help message and exit')
    .allowUnknownOption(false)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut, writeErr, outputError: (text, write) => write(`nodepool-launcher: ${text}`) });
}

/** Reads the parsed program into {@link LauncherCommandLine}. */
export function launcherCommandLine(program: Command): LauncherCommandLine {
  const flags = program.opts<LauncherFlags & { web: boolean }>();
  const settingsArgs: string[] = [];
  const known = new Set(settingsFlags().map((f) => f.arg));
  for (const option of program.options) {
    const name = option.long?.slice(2);
    if (!name || option.negate || COVERED.has(name) || name === 'settings') continue;
    if (!known.has(name)) continue;
    const key = option.attributeName();
    if (program.getOptionValueSource(key) === 'cli') settingsArgs.push(`--${name}=${String(program.getOptionValue(key))}`);
  }
  const settingsFile = program.getOptionValue('settings') as string | undefined;
  if (settingsFile) settingsArgs.push(`--settings=${settingsFile}`);
  return {
    flags: { ...flags, webapp: flags.webapp !== false && flags.web !== false },
    configGiven: program.getOptionValueSource('config') === 'cli',
    settingsArgs,
  };
}
