/**
 * Fast `/node-list` bodies for thousands of nodes. Everything of a node's row except `age` and
 * `locked` depends only on its record, and the cache replaces the record object whenever the
 * znode changes, so the formatted cells, the JSON around age/locked and even the padded table
 * line are memoised per record object. A request then only formats two cells per node.
 */
import {
  NODE_LIST_DETAIL_COLUMNS, capCell, cellText, formatAge, nodeRow, prettyTable, pythonJsonDumps,
} from '../status/index';
import type { Node } from '../zk/models/node';

/** A node with its lock state, as the cache holds it. */
export interface NodeWithLock {
  value: Node;
  locked: boolean;
}

const COLUMNS = NODE_LIST_DETAIL_COLUMNS;
const AGE = COLUMNS.findIndex((c) => c.key === 'age');
const LOCKED = COLUMNS.findIndex((c) => c.key === 'locked');
if (LOCKED !== AGE + 1) throw new Error('node list columns: age and locked must be adjacent');

interface Memo {
  /** Text cells; age and locked are filled per request. */
  cells: string[];
  multiLine: boolean;
  /** JSON of the row up to (excluding) `"age"`, and after `"locked"`. */
  jsonHead: string;
  jsonTail: string;
  /** Padded line pieces before age and after locked, for the widths in `lineKey`. */
  lineKey: string;
  linePre: string;
  linePost: string;
}

function jsonPairs(row: Record<string, unknown>, keys: readonly string[]): string {
  return keys.map((k) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(row[k])}`).join(', ');
}

/** See the module comment; one per web app. */
export class NodeListRenderer {
  private readonly memo = new WeakMap<Node, Memo>();

  private memoFor(node: Node): Memo {
    let m = this.memo.get(node);
    if (!m) {
      const row = nodeRow(node, false, 0);
      const keys = COLUMNS.map((c) => c.key);
      const cells = COLUMNS.map((c) => capCell(cellText(row[c.key])));
      // Filled per request; empty here so they never count towards the static widths.
      cells[AGE] = '';
      cells[LOCKED] = '';
      m = {
        cells,
        multiLine: cells.some((c) => c.includes('\n')),
        jsonHead: `{${jsonPairs(row, keys.slice(0, AGE))}, `,
        jsonTail: `${LOCKED + 1 < keys.length ? `, ${jsonPairs(row, keys.slice(LOCKED + 1))}` : ''}}`,
        lineKey: '',
        linePre: '',
        linePost: '',
      };
      this.memo.set(node, m);
    }
    return m;
  }

  /** The JSON body (Python `json.dumps` form, every key). */
  json(nodes: readonly NodeWithLock[], nowSeconds: number): string {
    const parts = new Array<string>(nodes.length);
    for (let i = 0; i < nodes.length; i++) {
      const { value, locked } = nodes[i];
      const m = this.memoFor(value);
      parts[i] = `${m.jsonHead}"age": "${formatAge(value.state_time, nowSeconds)}", "locked": "${lockedText(locked)}"${m.jsonTail}`;
    }
    return `[${parts.join(', ')}]`;
  }

  /** The text table; `fields` picks columns by JSON key like `?fields=`. */
  text(nodes: readonly NodeWithLock[], nowSeconds: number, fields?: readonly string[]): string {
    const memos = nodes.map((n) => this.memoFor(n.value));
    const ages = nodes.map((n) => formatAge(n.value.state_time, nowSeconds));
    const picked = fields?.map((f) => COLUMNS.findIndex((c) => c.key === f)).filter((i) => i >= 0) ?? [];
    if (picked.length > 0 || memos.some((m) => m.multiLine)) {
      const idx = picked.length > 0 ? picked : COLUMNS.map((_, i) => i);
      const rows = nodes.map((n, r) => idx.map((i) => (i === AGE ? ages[r] : i === LOCKED ? lockedText(n.locked) : memos[r].cells[i])));
      return prettyTable(idx.map((i) => COLUMNS[i].header), rows);
    }
    return this.fullTable(memos, ages, nodes);
  }

  /** All columns, single-line cells: reuse each node's padded line around age and locked. */
  private fullTable(memos: readonly Memo[], ages: readonly string[], nodes: readonly NodeWithLock[]): string {
    const widths = COLUMNS.map((c) => c.header.length);
    for (let r = 0; r < memos.length; r++) {
      const cells = memos[r].cells;
      for (let i = 0; i < widths.length; i++) if (cells[i].length > widths[i]) widths[i] = cells[i].length;
      if (ages[r].length > widths[AGE]) widths[AGE] = ages[r].length;
      if (nodes[r].locked && widths[LOCKED] < 6) widths[LOCKED] = 6;
      else if (!nodes[r].locked && widths[LOCKED] < 8) widths[LOCKED] = 8;
    }
    const key = widths.join(',');
    const pad = (cells: readonly string[], from: number, to: number): string => {
      let s = '';
      for (let i = from; i < to; i++) s += ` ${cells[i].padEnd(widths[i])} |`;
      return s;
    };
    const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
    const out = new Array<string>(memos.length + 4);
    out[0] = rule;
    out[1] = `|${pad(COLUMNS.map((c) => c.header), 0, widths.length)}`;
    out[2] = rule;
    for (let r = 0; r < memos.length; r++) {
      const m = memos[r];
      if (m.lineKey !== key) {
        m.lineKey = key;
        m.linePre = `|${pad(m.cells, 0, AGE)}`;
        m.linePost = pad(m.cells, LOCKED + 1, widths.length);
      }
      out[r + 3] = `${m.linePre} ${ages[r].padEnd(widths[AGE])} | ${lockedText(nodes[r].locked).padEnd(widths[LOCKED])} |${m.linePost}`;
    }
    out[memos.length + 3] = rule;
    return out.join('\n');
  }
}

function lockedText(locked: boolean): string {
  return locked ? 'locked' : 'unlocked';
}
