/** oomKillCount against a fake host: a mountinfo file and cgroup directories in a temp dir. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { oomKillCount } from '../../../src/engine/oom.ts';
import { tempDir } from '../../helpers/cleanup.ts';

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

function mountinfo(memory: string, unified: string): string {
  return [
    `31 23 0:28 / ${join(memory, '..')} rw,relatime - tmpfs tmpfs rw,mode=755`,
    `35 31 0:32 / ${memory} rw,relatime - cgroup cgroup rw,memory`,
    `41 31 0:38 / ${unified} rw,relatime - cgroup2 cgroup2 rw`,
    '',
  ].join('\n');
}

function container(dir: string, id: string, file: string, text: string): void {
  mkdirSync(join(dir, 'berth', id), { recursive: true });
  writeFileSync(join(dir, 'berth', id, file), text);
}

test('oomKillCount reads memory.oom_control (v1) or memory.events (cgroup2), and finds the hierarchies again when they moved', (t) => {
  const root = tempDir(t);
  const info = join(root, 'mountinfo');
  writeFileSync(info, mountinfo(join(root, 'cg', 'memory'), join(root, 'cg', 'unified')));
  container(join(root, 'cg', 'memory'), ID_A, 'memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
  container(join(root, 'cg', 'unified'), ID_B, 'memory.events', 'low 0\nhigh 0\nmax 1\noom 1\noom_kill 1\n');
  assert.equal(oomKillCount(ID_A, info), 2);
  assert.equal(oomKillCount(ID_B, info), 1);
  assert.equal(oomKillCount('c'.repeat(64), info), 0, 'no cgroup of it: none');
  // The memory hierarchy mounted elsewhere now: what was known finds nothing, so mountinfo is read again.
  writeFileSync(info, mountinfo(join(root, 'moved', 'memory'), join(root, 'moved', 'unified')));
  container(join(root, 'moved', 'memory'), 'd'.repeat(64), 'memory.oom_control', 'oom_kill 5\n');
  assert.equal(oomKillCount('d'.repeat(64), info), 5);
});
