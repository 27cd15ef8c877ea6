import { CaptureLogger } from '../../test/support/capture-logger';
import { BadRecords, MAX_REASON_CHARS } from './bad-records';
import { RecordParser, MAX_BODY_BYTES } from './record-parser';
import { NodeRequest } from './models/node-request';

describe('BadRecords', () => {
  afterEach(() => jest.useRealTimers());

  it('reports a record version once, with a cut reason, and counts it by kind', () => {
    const log = new CaptureLogger();
    const bad = new BadRecords(log);
    const heard: string[] = [];
    bad.onReport((kind, path) => heard.push(`${kind} ${path}`));
    expect(bad.report('request', '/nodepool/requests/300-0000000001', 'a@0', 'x'.repeat(100_000))).toBe(true);
    expect(bad.report('request', '/nodepool/requests/300-0000000001', 'a@0', 'again')).toBe(false);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0].msg.length).toBeLessThan(MAX_REASON_CHARS + 120);
    expect(log.lines[0].msg).toContain('[100000 chars]');
    expect(log.lines[0].fields).toMatchObject({ request: '300-0000000001', badRecord: 'request' });
    expect(bad.counts()).toEqual({ node: 0, request: 1, component: 0, 'lock-child': 0 });
    expect(heard).toEqual(['request /nodepool/requests/300-0000000001']);
  });

  it('summarises reports past the per-interval limit in one line per kind, naming some paths', () => {
    jest.useFakeTimers();
    const log = new CaptureLogger();
    const bad = new BadRecords(log, { intervalMs: 10_000, perInterval: 3 });
    for (let i = 0; i < 50; i++) bad.report('node', `/nodepool/nodes/${i}`, `${i}@0`, 'invalid JSON');
    expect(log.lines).toHaveLength(3);
    jest.advanceTimersByTime(10_000);
    expect(log.lines).toHaveLength(4);
    expect(log.lines[3].msg).toMatch(/^47 more bad node records in the last 10 s, not logged one by one: \/nodepool\/nodes\/3, .* and 37 more$/);
    expect(bad.counts().node).toBe(50);
    // A new interval logs one by one again.
    bad.report('node', '/nodepool/nodes/99', '99@0', 'invalid JSON');
    expect(log.lines).toHaveLength(5);
  });
});

describe('RecordParser', () => {
  it('parses a body once per buffer and rejects an oversized body without parsing it', () => {
    const log = new CaptureLogger();
    const parser = new RecordParser(new BadRecords(log));
    const body = Buffer.from(JSON.stringify({ state: 'requested', node_types: ['a'] }));
    const parse = jest.fn(() => NodeRequest.parse('100-0000000001', body));
    for (let i = 0; i < 5; i++) expect(parser.cached('request', '/r', 0, body, parse)?.node_types).toEqual(['a']);
    expect(parse).toHaveBeenCalledTimes(1);
    const huge = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    const parseHuge = jest.fn(() => ({}));
    for (let i = 0; i < 5; i++) expect(parser.cached('request', '/huge', 0, huge, parseHuge)).toBeUndefined();
    expect(parseHuge).not.toHaveBeenCalled();
    expect(log.lines.map((l) => l.msg)).toEqual([`skipping unreadable request /huge: body of ${MAX_BODY_BYTES + 1} bytes is over the ${MAX_BODY_BYTES}-byte bound (not parsed)`]);
    expect(parser.parseCounts().request).toBe(1);
  });
});
