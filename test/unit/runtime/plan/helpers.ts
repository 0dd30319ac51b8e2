/** Shared pieces of the plan compiler tests: inputs, step lookups, order checks. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { defaultSpec } from '../../../../src/oci/default-spec.ts';
import type { Spec } from '../../../../src/oci/runtime-spec.ts';
import type { CreatePlanInput } from '../../../../src/runtime/plan/create-plan.ts';
import type { Plan, Step } from '../../../../src/runtime/plan/encode.ts';
import type { OpName } from '../../../../src/runtime/plan/opcodes.ts';

/** runc's default spec without a terminal, running `true`. */
export function spec(edit?: (s: Spec) => void): Spec {
  const s = defaultSpec();
  s.process!.terminal = false;
  s.process!.args = ['true'];
  edit?.(s);
  return s;
}

/** A host directory holding a bind source directory and file (bind mounts stat their source). */
export function bindSources(t: TestContext): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-plan-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  return { dir, file };
}

export function createInput(s: Spec, overrides: Partial<CreatePlanInput> = {}): CreatePlanInput {
  return {
    spec: s,
    bundle: '/bundles/b1',
    rootfs: '/bundles/b1/rootfs',
    stateDir: '/run/berth-runtime/c1',
    fifoName: 'exec.fifo',
    consoleSocket: undefined,
    noPivot: false,
    preserveFds: 0,
    wait: false,
    consoleProxy: false,
    // The shape the cgroup library gives on v1: a tmpfs and a bind per hierarchy.
    cgroupMounts: (destination, readOnly) => [
      { source: 'tmpfs', destination, fstype: 'tmpfs', options: ['nosuid', 'mode=755'], kind: 'dir' },
      { source: '/', destination: `${destination}/memory`, fstype: 'bind', options: ['bind', ...(readOnly ? ['ro'] : [])], kind: 'dir' },
    ],
    rootfsParentMount: '/bundles',
    seccomp: undefined,
    hostHasKcore: false,
    ...overrides,
  };
}

export function opNames(plan: Plan): OpName[] {
  return plan.steps.map((s) => s.op);
}

export function stepsOf<N extends OpName>(plan: Plan, op: N): Step<N>[] {
  return plan.steps.filter((s): s is Step<N> => s.op === op);
}

/** The only step of an operation whose arguments match `where`. */
export function stepWhere<N extends OpName>(plan: Plan, op: N, where: (s: Step<N>) => boolean): Step<N> {
  const found = stepsOf(plan, op).filter(where);
  assert.equal(found.length, 1, `want one ${op} step matching, have ${found.length}`);
  return found[0] as Step<N>;
}

export function indexWhere<N extends OpName>(plan: Plan, op: N, where: (s: Step<N>) => boolean = () => true): number {
  return plan.steps.findIndex((s) => s.op === op && where(s as Step<N>));
}

/** Asserts that the given step indices are all found and strictly increasing. */
export function assertOrder(plan: Plan, ...indices: [string, number][]): void {
  for (const [what, i] of indices) assert.ok(i >= 0, `${what}: not in the plan`);
  for (let k = 1; k < indices.length; k++) {
    const [a, ia] = indices[k - 1] ?? ['', 0];
    const [b, ib] = indices[k] ?? ['', 0];
    assert.ok(ia < ib, `${a} (step ${ia}) must come before ${b} (step ${ib})`);
  }
}
