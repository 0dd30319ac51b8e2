/**
 * OOM kills of a cgroup, for `events`: the kernel's oom_kill counter (v1
 * memory.oom_control, v2 memory.events) compared with its value when
 * watching began. v2 files notify through inotify, so fs.watch wakes the
 * watcher, with a slow poll as a safety net; v1 control files do not notify,
 * so they are polled (runc uses an eventfd through cgroup.event_control,
 * which needs a process holding the fd; polling needs none).
 */
import { watch, type FSWatcher } from 'node:fs';
import { cgroupFsFor } from './fs.ts';
import type { CgroupPaths } from './types.ts';
import { parseKeyValues } from './write.ts';

export interface OomWatchOptions {
  fsRoot?: string;
  /** Poll interval for v1 (and the safety poll on v2, ten times slower). Default 100 ms. */
  intervalMs?: number;
  /** Called when the counter cannot be read any more (cgroup removed); the watch stops. */
  onGone?: () => void;
}

/** Starts watching; `onOom(kills)` gets the number of new OOM kills each time the counter moves. */
export function watchOom(paths: CgroupPaths, onOom: (kills: number) => void, options: OomWatchOptions = {}): Disposable {
  const fs = cgroupFsFor(options.fsRoot);
  const v2 = paths.mode === 'v2';
  const dir = v2 ? paths.dirs['unified'] : paths.dirs['memory'];
  const file = v2 ? 'memory.events' : 'memory.oom_control';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  const stop = (): void => {
    stopped = true;
    if (timer !== undefined) clearInterval(timer);
    watcher?.close();
  };
  if (dir === undefined) return { [Symbol.dispose]: stop };
  const path = `${dir}/${file}`;
  const read = (): number | undefined => {
    try {
      return parseKeyValues(fs.readSync(path)).get('oom_kill') ?? 0;
    } catch {
      return undefined;
    }
  };
  let last = read() ?? 0;
  const check = (): void => {
    if (stopped) return;
    const now = read();
    if (now === undefined) {
      stop();
      options.onGone?.();
      return;
    }
    if (now > last) {
      const kills = now - last;
      last = now;
      onOom(kills);
    }
  };
  const interval = options.intervalMs ?? 100;
  timer = setInterval(check, v2 ? interval * 10 : interval);
  if (v2) {
    try {
      watcher = watch(fs.hostPath(path), check);
      watcher.on('error', () => undefined);
    } catch {
      clearInterval(timer);
      timer = setInterval(check, interval);
    }
  }
  return { [Symbol.dispose]: stop };
}
