/**
 * Where berthd keeps what it keeps: its socket and lock under the run root
 * (/run/berth, gone at reboot like the containers), its log under the
 * state root (/var/lib/berth: on disk, not in the memory of a tmpfs, and
 * still there after a crash or a reboot to say what happened).
 */
import { join } from 'node:path';
import { DEFAULT_ROOT } from '../image/store/default-root.ts';

export const DEFAULT_RUN_ROOT = '/run/berth';

export interface DaemonPaths {
  readonly root: string;
  readonly runRoot: string;
  readonly socket: string;
  /** Held (flock) by the running daemon, with its pid inside. */
  readonly lock: string;
  readonly log: string;
}

export interface DaemonPathOptions {
  root?: string | undefined;
  runRoot?: string | undefined;
  socket?: string | undefined;
}

export function daemonPaths(options: DaemonPathOptions = {}): DaemonPaths {
  const root = options.root ?? DEFAULT_ROOT;
  const runRoot = options.runRoot ?? DEFAULT_RUN_ROOT;
  return {
    root,
    runRoot,
    socket: options.socket ?? join(runRoot, 'berth.sock'),
    lock: join(runRoot, 'berthd.lock'),
    log: join(root, 'berthd.log'),
  };
}
