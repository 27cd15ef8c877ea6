/** Status listings shared by the `nodepool` CLI and the web app (Nodepool's `status.py`). */
export * from './pretty-table';
export * from './python-format';
export * from './status-table';
export * from './node-list';
export * from './request-list';
export * from './label-list';
export * from './image-list';
