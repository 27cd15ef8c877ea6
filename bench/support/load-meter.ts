/**
 * What a measured run cost the machine: CPU of the benchmark process (launchers and requestor)
 * and of the ZooKeeper server, and the packets the server received and sent. On a small machine
 * the two processes share the cores, so throughput follows their sum; the packet counts show the
 * watch notifications (sent − received) that each further ZooKeeper session adds.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { ZooKeeperServer } from '../../src/cli/local-zookeeper';

/** Totals of one measured run. */
export interface Load {
  benchCpuMs: number;
  zooKeeperCpuMs: number;
  packetsReceived: number;
  packetsSent: number;
}

/** CPU time (user + system) of a process so far, ms; 0 when it cannot be read. */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100/s).
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** The server's `mntr` counters (a four-letter word on the client port). */
export async function monitor(server: ZooKeeperServer): Promise<Record<string, number>> {
  const text = await new Promise<string>((resolve, reject) => {
    let out = '';
    const socket = net.connect({ host: server.host, port: server.port }, () => socket.end('mntr'));
    socket.on('data', (d: Buffer) => (out += d.toString()));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
  const counters: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.split('\t');
    if (key && value !== undefined && !Number.isNaN(Number(value))) counters[key] = Number(value);
  }
  return counters;
}

/** Starts measuring; the returned function ends the measurement. */
export async function meterLoad(server: ZooKeeperServer): Promise<() => Promise<Load>> {
  const cpu0 = process.cpuUsage();
  const zk0 = processCpuMs(server.pid);
  const m0 = await monitor(server);
  return async () => {
    const cpu = process.cpuUsage(cpu0);
    const zooKeeperCpuMs = processCpuMs(server.pid) - zk0;
    const m1 = await monitor(server);
    return {
      benchCpuMs: (cpu.user + cpu.system) / 1000,
      zooKeeperCpuMs,
      packetsReceived: (m1.zk_packets_received ?? 0) - (m0.zk_packets_received ?? 0),
      packetsSent: (m1.zk_packets_sent ?? 0) - (m0.zk_packets_sent ?? 0),
    };
  };
}

/** The figures of a {@link Load} per fulfilled request. */
export function loadFigures(load: Load, requests: number, wallMs: number): Array<{ name: string; value: number; unit?: string }> {
  const per = (v: number, digits = 2): number => Math.round((v / Math.max(1, requests)) * 10 ** digits) / 10 ** digits;
  return [
    { name: 'CPU per request, benchmark process', value: per(load.benchCpuMs), unit: 'ms' },
    { name: 'CPU per request, ZooKeeper server', value: per(load.zooKeeperCpuMs), unit: 'ms' },
    { name: 'both processes busy (of 1 core)', value: Math.round(((load.benchCpuMs + load.zooKeeperCpuMs) / Math.max(1, wallMs)) * 100), unit: '%' },
    { name: 'ZooKeeper requests per request, all clients', value: per(load.packetsReceived, 1) },
    { name: 'watch notifications per request, all clients', value: per(load.packetsSent - load.packetsReceived, 1) },
  ];
}
