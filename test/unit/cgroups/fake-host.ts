/**
 * A fake host for the cgroup library: a temp dir with proc/self/mountinfo,
 * proc/self/cgroup and sys/fs/cgroup laid out like a v1, v2 or hybrid host
 * (control file names from real kernels, in test/fixtures/cgroupfs), read
 * through TreeCgroupFs.
 */
import type { TestContext } from 'node:test';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CgroupMode } from '../../../src/runtime/cgroups/index.ts';
import { parseCgroupMounts } from '../../../src/runtime/cgroups/mountinfo.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'cgroupfs');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

/** Values a real kernel shows in a fresh cgroup, where the policy reads them. */
const DEFAULTS: Record<string, string> = {
  'devices.list': 'a *:* rwm\n',
  'cpuset.cpus': '0-1\n',
  'cpuset.mems': '0\n',
  'memory.limit_in_bytes': '9223372036854771712\n',
  'freezer.state': 'THAWED\n',
  'cgroup.events': 'populated 0\nfrozen 0\n',
  'cgroup.freeze': '0\n',
  'cgroup.type': 'domain\n',
};

export interface FakeHost {
  root: string;
  mode: CgroupMode;
  /** Host path in the fake tree of an absolute path. */
  path(abs: string): string;
  read(abs: string): string;
  write(abs: string, data: string): void;
  /** The writes the library made, in order, as [path, value]. */
  writes(): [string, string][];
  clearWrites(): void;
}

export function fakeHost(t: TestContext, mode: CgroupMode, options: { v2Controllers?: string } = {}): FakeHost {
  const root = mkdtempSync(join(tmpdir(), `berth-cgfs-${mode}-`));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const put = (abs: string, data: string): void => {
    mkdirSync(dirname(join(root, abs)), { recursive: true });
    writeFileSync(join(root, abs), data);
  };
  const mountinfo = fixture(`mountinfo-${mode}.txt`);
  put('/proc/self/mountinfo', mountinfo);
  put('/proc/self/cgroup', fixture(`proc-cgroup-${mode}.txt`));
  const v1Files = JSON.parse(fixture('v1-files.json')) as Record<string, string[]>;
  const v2Files = JSON.parse(fixture('v2-files.json')) as Record<string, string[]>;
  for (const m of parseCgroupMounts(mountinfo)) {
    mkdirSync(join(root, m.mountPoint), { recursive: true });
    let files: string[];
    if (m.version === 2 && mode === 'v2') files = Object.values(v2Files).flat();
    else if (m.version === 2) files = v1Files['unified'] ?? [];
    else files = m.controllers.flatMap((c) => v1Files[c.replace('name=', '')] ?? []);
    for (const f of new Set(files)) writeFileSync(join(root, m.mountPoint, f), DEFAULTS[f] ?? '');
    if (m.version === 2) {
      const controllers = mode === 'v2' ? (options.v2Controllers ?? 'cpuset cpu io memory hugetlb pids rdma') : '';
      writeFileSync(join(root, m.mountPoint, 'cgroup.controllers'), `${controllers}\n`);
    }
  }
  // Own cgroups that relative paths start from.
  for (const line of fixture(`proc-cgroup-${mode}.txt`).split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers === undefined || path === undefined || path === '/') continue;
    const mount = parseCgroupMounts(mountinfo).find((m) => (controllers === '' ? m.version === 2 : m.controllers.includes(controllers.split(',')[0] ?? '')));
    if (mount === undefined) continue;
    // Each level with the control files of the hierarchy, like a real cgroup.
    let dir = join(root, mount.mountPoint);
    const files = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
    for (const part of path.split('/').filter(Boolean)) {
      dir = join(dir, part);
      mkdirSync(dir, { recursive: true });
      for (const f of files) writeFileSync(join(dir, f), DEFAULTS[f] ?? '');
    }
  }
  writeFileSync(join(root, '.writes'), '');
  return {
    root,
    mode,
    path: (abs) => join(root, abs),
    read: (abs) => readFileSync(join(root, abs), 'utf8'),
    write: put,
    writes: () =>
      readFileSync(join(root, '.writes'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t') as [string, string]),
    clearWrites: () => writeFileSync(join(root, '.writes'), ''),
  };
}
