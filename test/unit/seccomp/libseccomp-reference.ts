/**
 * Drives libseccomp as the reference for the differential test: compiles
 * test/fixtures/seccomp/libseccomp-harness.c against the system's
 * libseccomp-dev into a temporary directory, feeds it profiles in its line
 * format and returns the BPF libseccomp generated.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LinuxSeccomp, SeccompAction, SeccompOperator } from '../../../src/oci/runtime-spec.ts';

const HARNESS_SOURCE = join(import.meta.dirname, '..', '..', 'fixtures', 'seccomp', 'libseccomp-harness.c');

const ACTIONS: Readonly<Record<SeccompAction, number>> = {
  SCMP_ACT_KILL: 0x00000000,
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};

/** enum scmp_compare (seccomp.h). */
const OPS: Readonly<Record<SeccompOperator, number>> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

export const SUPPORTED_ARCHES = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];

/** Why the reference cannot run here, or undefined when it can. */
export function referenceUnavailable(): string | undefined {
  if (!existsSync('/usr/include/seccomp.h')) return 'libseccomp-dev is not installed (/usr/include/seccomp.h missing)';
  const cc = spawnSync('cc', ['--version']);
  if (cc.status !== 0) return 'no C compiler (cc) to build the libseccomp harness';
  return undefined;
}

function action(name: SeccompAction, errnoRet: number | undefined): number {
  const base = ACTIONS[name];
  const data = name === 'SCMP_ACT_ERRNO' || name === 'SCMP_ACT_TRACE' ? (errnoRet ?? 1) : 0;
  return (base | data) >>> 0;
}

/** The harness's line format for a profile, as runc would hand it to libseccomp. */
export function toHarnessInput(profile: LinuxSeccomp, nativeArch: 'x86_64' | 'aarch64'): string {
  const lines = [`default ${action(profile.defaultAction, profile.defaultErrnoRet)}`];
  if (nativeArch === 'aarch64') lines.push('arch SCMP_ARCH_AARCH64', 'remove-native');
  for (const arch of profile.architectures ?? []) {
    if (SUPPORTED_ARCHES.includes(arch)) lines.push(`arch ${arch}`);
  }
  for (const rule of profile.syscalls ?? []) {
    const args = rule.args ?? [];
    const conds = args.map((a) => `${a.index} ${OPS[a.op]} ${BigInt(a.value)} ${BigInt(a.valueTwo ?? 0)}`);
    for (const name of rule.names) {
      lines.push(`rule ${action(rule.action, rule.errnoRet)} ${name} ${args.length} ${conds.join(' ')}`.trimEnd());
    }
  }
  return `${lines.join('\n')}\n`;
}

export class LibseccompReference implements Disposable {
  readonly dir: string;
  readonly binary: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-ref-'));
    this.binary = join(this.dir, 'harness');
    try {
      execFileSync('cc', ['-O2', '-o', this.binary, HARNESS_SOURCE, '-lseccomp'], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      this.close();
      throw err;
    }
  }

  program(profile: LinuxSeccomp, nativeArch: 'x86_64' | 'aarch64'): Uint8Array {
    const out = execFileSync(this.binary, ['bpf'], { input: toHarnessInput(profile, nativeArch), maxBuffer: 1 << 24 });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  /** libseccomp's syscall number for each (arch, name); negative for pseudo numbers, -10000-ish. */
  numbers(queries: readonly { arch: string; name: string }[]): Map<string, number> {
    const input = queries.map((q) => `resolve ${q.arch} ${q.name}`).join('\n');
    const out = execFileSync(this.binary, ['resolve'], { input, encoding: 'utf8', maxBuffer: 1 << 24 });
    const numbers = new Map<string, number>();
    for (const line of out.split('\n')) {
      const [arch, name, nr] = line.split(' ');
      if (arch !== undefined && name !== undefined && nr !== undefined) numbers.set(`${arch} ${name}`, Number(nr));
    }
    return numbers;
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
