import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as sys from '../../../src/sys/index.ts';
import { SystemError } from '../../../src/sys/index.ts';

/** A temporary directory removed after the test. */
export function tempDir(t: TestContext, prefix = 'berth-sys-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Asserts `fn` throws a SystemError with this code, syscall and (when given) path. */
export function assertSysError(fn: () => unknown, code: string, syscall: string, path?: string): SystemError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SystemError, `expected a SystemError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.equal(caught.syscall, syscall);
  assert.ok(caught.errno < 0);
  if (path !== undefined) {
    assert.equal(caught.path, path);
    assert.ok(caught.message.startsWith(`${code}: `), caught.message);
    assert.ok(caught.message.includes(`${syscall} '${path}'`), caught.message);
  }
  return caught;
}

/** A directory fd to resolve paths from (close it in the test). */
export function openRoot(dir: string): number {
  return sys.openat(sys.AT_FDCWD, dir, sys.O_DIRECTORY | sys.O_RDONLY);
}
