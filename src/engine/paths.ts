/**
 * Where the engine keeps each container's parts. Durable state lives under
 * the store's root (`/var/lib/berth`), what dies with the machine under the
 * run root (`/run/berth`), as podman and containerd split them:
 *
 *   ROOT/berth.db                      records (shared with the image store)
 *   ROOT/containers/ID/config.json     the bundle the runtime runs
 *   ROOT/containers/ID/rootfs          the snapshot, mounted while the container exists
 *   ROOT/containers/ID/{hosts,hostname,resolv.conf}
 *   ROOT/containers/ID/ctr.log         its output, CRI format, rotated
 *   RUNROOT/containers/ID/             the monitor's attach socket, ctl fifo, pid and exit files
 *   RUNROOT/runtime/                   the OCI runtime's state (--root)
 */
import { join } from 'node:path';

export const DEFAULT_RUN_ROOT = '/run/berth';

export interface EnginePaths {
  root: string;
  runRoot: string;
}

export function databasePath(p: EnginePaths): string {
  return join(p.root, 'berth.db');
}

export function containersDir(p: EnginePaths): string {
  return join(p.root, 'containers');
}

export function containerDir(p: EnginePaths, id: string): string {
  return join(p.root, 'containers', id);
}

export function rootfsDir(p: EnginePaths, id: string): string {
  return join(containerDir(p, id), 'rootfs');
}

export function logPath(p: EnginePaths, id: string): string {
  return join(containerDir(p, id), 'ctr.log');
}

export function runDir(p: EnginePaths, id: string): string {
  return join(p.runRoot, 'containers', id);
}

export function runtimeRoot(p: EnginePaths): string {
  return join(p.runRoot, 'runtime');
}

/** The snapshot key of a container's writable layer. */
export function snapshotKey(id: string): string {
  return `container-${id}`;
}
