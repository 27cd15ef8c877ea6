import type { Event as LibEvent, Stat as LibStat } from 'node-zookeeper-client';
import type { ZkWatchEvent, ZkWatchEventType, ZnodeStat } from '../plugins/zookeeper';

/** Reads an 8-byte big-endian jute `long`. Zxids and ms times fit a double in practice. */
function long(buf: Buffer): number {
  return Number(buf.readBigInt64BE(0));
}

/** Session ids are shown as 16 hex digits everywhere (logs, stats, `sessionId`). */
export function sessionIdHex(buf: Buffer): string {
  return buf.toString('hex').padStart(16, '0');
}

/** Converts the library's jute Stat record. */
export function toZnodeStat(stat: LibStat): ZnodeStat {
  const owner = sessionIdHex(stat.ephemeralOwner);
  return {
    czxid: long(stat.czxid),
    mzxid: long(stat.mzxid),
    ctime: long(stat.ctime),
    mtime: long(stat.mtime),
    version: stat.version,
    cversion: stat.cversion,
    aversion: stat.aversion,
    ephemeralOwner: owner,
    ephemeral: !/^0+$/.test(owner),
    dataLength: stat.dataLength,
    numChildren: stat.numChildren,
    pzxid: long(stat.pzxid),
  };
}

const EVENT_TYPES: Record<number, ZkWatchEventType> = { 1: 'created', 2: 'deleted', 3: 'changed', 4: 'children' };

/** Converts the library's watch Event. */
export function toWatchEvent(event: LibEvent): ZkWatchEvent {
  return { type: EVENT_TYPES[event.type] ?? 'changed', path: event.path };
}
