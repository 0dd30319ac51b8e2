/**
 * Runtime bundles from images (`umoci unpack`): unpackBundle writes
 * DIR/rootfs and DIR/config.json; imageConfigToSpec is the config step
 * alone. Imports src/sys (koffi) through unpack: load lazily.
 */
export { unpackBundle, type BundleOptions, type BundleResult } from './unpack-bundle.ts';
export { imageConfigToSpec, ANNOTATION, type ConfigToSpecOptions } from './image-config-to-spec.ts';
export { resolveUser, parsePasswd, parseGroup, type ExecUser, type UserDb } from './user.ts';
export { readUserDb } from './read-user-db.ts';
