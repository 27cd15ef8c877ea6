import type { ImageTree } from '../zk/image-tree';
import { DIB_IMAGE_LIST_COLUMNS, IMAGE_STATUS_COLUMNS, dibImageListRows, imageListRows, imageStatusRows } from './image-list';
import { pythonJsonDumps } from './python-format';
import { statusTable } from './status-table';

const tree: ImageTree = {
  problems: [],
  images: [
    {
      name: 'centos', paused: true, buildRequest: { created: 1700000100.75, building: false },
      builds: [{ id: 'b1', build: { state: 'ready', state_time: 1700000000.9, builder: 'bh', formats: 'qcow2,raw' }, providers: [] }],
    },
    {
      name: 'ubuntu', paused: false, buildRequest: null,
      builds: [
        {
          id: 'aaa', build: { state: 'ready', state_time: 1700000000, builder: 'bh', formats: 'qcow2' },
          providers: [
            { provider: 'p1', uploads: [{ id: '0000000001', upload: { state: 'ready', state_time: 1700000050.5, external_id: 'img-1', external_name: 'ubuntu-1' } }] },
            { provider: 'p2', uploads: [{ id: '0000000002', upload: { state: 'uploading', state_time: 1700000060, external_id: null, external_name: null } }] },
          ],
        },
        // An unreadable build record: no dib row, but its uploads still list.
        { id: 'bbb', build: null, providers: [{ provider: 'p1', uploads: [{ id: '0000000003', upload: { state: 'failed', state_time: 1, external_id: null, external_name: 'x' } }] }] },
        { id: 'ccc', build: { state: 'building', state_time: 1700000200, builder: null, formats: null }, providers: [] },
      ],
    },
  ],
};

describe('image listings', () => {
  it('image-list: one row per upload, int epoch age, in tree order', () => {
    expect(imageListRows(tree)).toEqual([
      { id: 'aaa', upload_id: '0000000001', provider: 'p1', image: 'ubuntu', external_name: 'ubuntu-1', external_id: 'img-1', state: 'ready', age: 1700000050 },
      { id: 'aaa', upload_id: '0000000002', provider: 'p2', image: 'ubuntu', external_name: null, external_id: null, state: 'uploading', age: 1700000060 },
      { id: 'bbb', upload_id: '0000000003', provider: 'p1', image: 'ubuntu', external_name: 'x', external_id: null, state: 'failed', age: 1 },
    ]);
  });

  it('dib-image-list: <image>-<build> ids, formats as a list, paused images say paused', () => {
    const rows = dibImageListRows(tree);
    expect(rows).toEqual([
      { id: 'centos-b1', image: 'centos', builder: 'bh', formats: ['qcow2', 'raw'], state: 'paused', age: 1700000000 },
      { id: 'ubuntu-aaa', image: 'ubuntu', builder: 'bh', formats: ['qcow2'], state: 'ready', age: 1700000000 },
      { id: 'ubuntu-ccc', image: 'ubuntu', builder: null, formats: [], state: 'building', age: 1700000200 },
    ]);
    expect(Object.keys(rows[0])).toEqual(DIB_IMAGE_LIST_COLUMNS.map((c) => c.key));
  });

  it('image-status: pause flag and build request per image', () => {
    expect(imageStatusRows(tree)).toEqual([
      { image: 'centos', paused: true, build_request: 'pending', build_request_age: 1700000100 },
      { image: 'ubuntu', paused: false, build_request: null, build_request_age: null },
    ]);
    const building: ImageTree = { problems: [], images: [{ ...tree.images[0], buildRequest: { created: 5, building: true } }] };
    expect(imageStatusRows(building)[0].build_request).toBe('building');
    expect(pythonJsonDumps(imageStatusRows(tree))).toBe(
      '[{"image": "centos", "paused": true, "build_request": "pending", "build_request_age": 1700000100}, '
        + '{"image": "ubuntu", "paused": false, "build_request": null, "build_request_age": null}]',
    );
  });

  it('text tables print int ages as DD:HH:MM:SS and booleans as Python does', () => {
    const dib = statusTable(DIB_IMAGE_LIST_COLUMNS, dibImageListRows(tree), undefined, 1700000000 + 86400 + 3661);
    expect(dib.split('\n')[3]).toBe('| centos-b1  | centos | bh      | qcow2,raw | paused   | 01:01:01:01 |');
    const status = statusTable(IMAGE_STATUS_COLUMNS, imageStatusRows(tree)).split('\n');
    expect(status[1]).toBe('| Image  | Paused | Build Request | Build Request Age |');
    expect(status[3]).toBe('| centos | True   | pending       | 1700000100        |');
    expect(status[4]).toBe('| ubuntu | False  |               |                   |');
  });

  it('an empty tree gives no rows', () => {
    const empty: ImageTree = { images: [], problems: [] };
    expect([imageListRows(empty), dibImageListRows(empty), imageStatusRows(empty)]).toEqual([[], [], []]);
  });
});
