/**
 * Waits for berth-monitor's RUN/exit without polling: inotify on the run
 * directory (fs.watch) tells when the file is renamed into place, and a
 * read after the watch starts catches an exit that came before it.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readExit, type ExitStatus } from '../monitor/exit-file.ts';

export interface ExitWait {
  exited: Promise<ExitStatus>;
  /** Stops watching; `exited` then never settles. */
  cancel(): void;
}

export function waitExit(runDir: string): ExitWait {
  let watcher: FSWatcher | undefined;
  const exited = new Promise<ExitStatus>((resolve, reject) => {
    const check = (): void => {
      try {
        const status = readExit(runDir);
        if (status === undefined) return;
        watcher?.close();
        resolve(status);
      } catch (err) {
        watcher?.close();
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    watcher = watch(runDir, check);
    watcher.once('error', (err) => {
      watcher?.close();
      reject(err);
    });
    check();
  });
  return { exited, cancel: () => watcher?.close() };
}
