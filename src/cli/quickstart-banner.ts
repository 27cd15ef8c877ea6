/**
 * What the quickstart prints once it runs: the request command ready to paste, the dashboard
 * URL and how to stop.
 */
import path from 'node:path';

/** Where the running quickstart can be reached. */
export interface QuickstartFacts {
  /** nodepool.yaml the launcher runs on. */
  config: string;
  /** ZooKeeper hosts from the launcher settings (the local one, or --zk-hosts); '' = nodepool.yaml. */
  zkHosts: string;
  zkChroot: string;
  /** A label to ask for (the first of the config). */
  label: string | undefined;
  /** The web app's bound address, when it serves. */
  web: { host: string; port: number } | undefined;
  /** Whether the launcher started its own ZooKeeper (stopped with it). */
  localZooKeeper: boolean;
  /** The working directory the command is meant for. */
  cwd: string;
}

const BIN_NODEPOOL = path.resolve(__dirname, '../../bin/nodepool');

/** POSIX shell quoting, only where needed. */
function sh(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function shorten(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** A URL host: loopback for a wildcard bind, brackets for IPv6. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** The lines printed after "launcher running" in quickstart mode. */
export function quickstartNextSteps(facts: QuickstartFacts): string {
  const env = [
    ...(facts.zkHosts ? [`NODEPOOL_TS_ZK_HOSTS=${sh(facts.zkHosts)}`] : []),
    ...(facts.zkChroot ? [`NODEPOOL_TS_ZK_CHROOT=${sh(facts.zkChroot)}`] : []),
  ];
  const bin = shorten(BIN_NODEPOOL, facts.cwd);
  const command = [...env, bin.includes('/') ? sh(bin) : `./${sh(bin)}`, '-c', sh(shorten(facts.config, facts.cwd)), 'request', sh(facts.label ?? 'LABEL'), '--wait'].join(' ');
  const lines = [
    '',
    'nodepool-ts quickstart is running. Next steps:',
    '  Ask for a node, from another terminal in this directory (the node is held until Ctrl-C',
    '  or --hold-for SECONDS, then given back):',
    `    ${command}`,
    facts.web ? `  Dashboard: http://${urlHost(facts.web.host)}:${facts.web.port}/` : '  Dashboard: off (--no-webapp)',
    `  Stop: Ctrl-C here${facts.localZooKeeper ? ' (stops the local ZooKeeper too)' : ''}.`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
