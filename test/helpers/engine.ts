/**
 * An engine on a private root and run root (never /var/lib/berth or
 * /run/berth), with busybox imported from the host's busybox-static, for
 * the engine's tests. `cleanup()` removes every container it made (killing
 * what runs), unmounts, and deletes both roots; tests call it from `after`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type EngineOptions } from '../../src/engine/engine.ts';
import { importImage } from '../../src/image/copy/import.ts';
import { ImageStore } from '../../src/image/store/store.ts';
import { makeRootfs } from './runtime.ts';

export const BUSYBOX_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface TestEngine {
  engine: Engine;
  root: string;
  runRoot: string;
  /** Opens a second engine on the same roots (as a restarted berthd would). */
  reopen(options?: EngineOptions): Promise<Engine>;
  cleanup(): Promise<void>;
}

/** Imports busybox as `busybox:latest` (CMD sh) into the store at `root`. */
export async function importBusybox(store: ImageStore, scratch: string, name = 'busybox:latest'): Promise<void> {
  const rootfs = makeRootfs(scratch);
  await importImage(store, rootfs, { names: [name], config: { Cmd: ['sh'], Env: [BUSYBOX_ENV] } });
}

export async function testEngine(options: EngineOptions = {}): Promise<TestEngine> {
  const base = mkdtempSync(join(tmpdir(), 'berth-engine-'));
  const root = join(base, 'root');
  // Short: the monitor's attach socket path (RUNROOT/containers/ID/attach) must fit a sockaddr_un's 108 bytes.
  const runRoot = mkdtempSync('/tmp/br-');
  const images = await ImageStore.open({ root });
  await importBusybox(images, join(base, 'scratch'));
  rmSync(join(base, 'scratch'), { recursive: true, force: true });
  const engines: Engine[] = [];
  const open = async (o: EngineOptions = {}): Promise<Engine> => {
    const e = await Engine.open({ root, runRoot, images, ...options, ...o });
    engines.push(e);
    return e;
  };
  const engine = await open();
  return {
    engine,
    root,
    runRoot,
    reopen: open,
    async cleanup() {
      const last = engines.at(-1)!;
      for (const e of engines) if (e !== last) e.close();
      for (const r of last.containers.list()) {
        try {
          await last.remove(r.id, { force: true, volumes: true });
        } catch {
          // A half-made one: recover() below undoes it.
        }
      }
      await last.recover().catch(() => undefined);
      last.close();
      images.close();
      rmSync(base, { recursive: true, force: true });
      rmSync(runRoot, { recursive: true, force: true });
    },
  };
}
