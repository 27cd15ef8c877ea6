/** Moved into the plugin SDK (it must stand alone); kept here for kernel-side imports. */
export * from '../../plugins/models/node';
