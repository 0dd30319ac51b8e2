/**
 * Cleanups that run after a test, last registered first (node:test runs
 * t.after hooks in registration order): what uses a directory goes before
 * the directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

const cleanups = new WeakMap<TestContext, (() => unknown)[]>();

export function onCleanup(t: TestContext, fn: () => unknown): void {
  let stack = cleanups.get(t);
  if (!stack) {
    const fresh: (() => unknown)[] = [];
    cleanups.set(t, fresh);
    t.after(async () => {
      for (const f of fresh.reverse()) await f();
    });
    stack = fresh;
  }
  stack.push(fn);
}

/** A temporary directory removed after the test (after everything registered later). */
export function tempDir(t: TestContext, prefix = 'berth-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
