/**
 * Host system calls for Node (through koffi; see libc.ts). Import lazily:
 * `const sys = await import('../sys/index.ts')`, never on a start path.
 */
export * from './constants.ts';
export { SystemError, isSystemError, displayPath, shortenMiddle, type SysPath } from './error.ts';
export * from './fs.ts';
export * from './meta.ts';
export * from './xattr.ts';
export * from './mount.ts';
export { listdirfd } from './dir.ts';
