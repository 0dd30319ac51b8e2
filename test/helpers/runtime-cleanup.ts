/**
 * A RuntimeFixture whose containers are force-deleted before its state root
 * is removed. RuntimeFixture registers the removal of its temporary --root
 * (through tempDir) before its own cleanup, and node:test runs t.after
 * hooks in the order they were registered, so its `delete --force` finds no
 * state and containers still running at the end of a test would be left
 * behind. This hook, registered first, deletes them while the state exists.
 */
import type { TestContext } from 'node:test';
import { RuntimeFixture } from './runtime.ts';

export function runtimeFixture(t: TestContext): RuntimeFixture {
  const made: { rt?: RuntimeFixture } = {};
  t.after(async () => {
    const rt = made.rt;
    for (const id of rt?.leftovers() ?? []) {
      const r = await rt?.run(['delete', '--force', id]);
      if (r && r.code !== 0) throw new Error(`cleanup: delete --force ${id}: ${r.stderr}`);
    }
  });
  made.rt = new RuntimeFixture(t);
  return made.rt;
}
