export * from './model-error';
export * from './node';
export * from './node-request';
export * from './component';
export * from './image-build';
