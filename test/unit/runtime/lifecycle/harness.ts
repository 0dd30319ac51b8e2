/**
 * A container's whole life without root: the lifecycle of
 * src/runtime/lifecycle driven against the recording fake executor host
 * (fake-executor.ts), a fake cgroup v1 host in a temp dir
 * (../../cgroups/fake-host.ts), a temp state root and a bundle whose
 * config is runc's default spec.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { defaultSpec } from '../../../../src/oci/default-spec.ts';
import type { Spec } from '../../../../src/oci/runtime-spec.ts';
import type { RuntimeContext } from '../../../../src/runtime/lifecycle/context.ts';
import { create } from '../../../../src/runtime/lifecycle/create.ts';
import { start } from '../../../../src/runtime/lifecycle/start.ts';
import { StateStore } from '../../../../src/runtime/state/store.ts';
import { tempDir } from '../../../helpers/cleanup.ts';
import { fakeHost, type FakeHost } from '../../cgroups/fake-host.ts';
import { dropFromCgroups, FakeExecutorHost } from './fake-executor.ts';

export interface Harness {
  ctx: RuntimeContext;
  host: FakeExecutorHost;
  cgroups: FakeHost;
  /** The bundle directory (config.json, rootfs). */
  bundle: string;
  /** The directories of a container's default cgroup that exist in the fake tree. */
  cgroupDirs(id: string): string[];
  /** What is left of a container: its state directory's entries and its cgroup directories. */
  leftovers(id: string): string[];
}

export function harness(t: TestContext, edit: (spec: Spec, bundle: string) => void = () => undefined): Harness {
  const cgroups = fakeHost(t, 'v1');
  const host = new FakeExecutorHost({ onExit: (pid) => dropFromCgroups(cgroups.path('/sys/fs/cgroup'), pid) });
  t.after(() => host.stopAll());
  const bundle = tempDir(t, 'berth-lifecycle-');
  mkdirSync(join(bundle, 'rootfs'));
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = ['sleep', '1000'];
  edit(spec, bundle);
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  const root = join(bundle, 'state');
  const ctx: RuntimeContext = { store: new StateStore(root, host), host, cgroupFsRoot: cgroups.root };
  const cgroupDirs = (id: string): string[] =>
    readdirSync(cgroups.path('/sys/fs/cgroup'))
      .map((h) => cgroups.path(`/sys/fs/cgroup/${h}/berth/${id}`))
      .filter((d) => existsSync(d));
  return {
    ctx,
    host,
    cgroups,
    bundle,
    cgroupDirs,
    leftovers: (id) => [...(existsSync(join(root, id)) ? [join(root, id)] : []), ...cgroupDirs(id)],
  };
}

/** A container created and started, as `run --detach` leaves it. */
export async function running(h: Harness, id: string): Promise<number> {
  const { pid } = await create(h.ctx, id, { bundle: h.bundle });
  await start(h.ctx, id);
  return pid;
}
