/**
 * Time to compile the default seccomp profile, which is on the container
 * start path: berth's TypeScript compiler (in process, after warm-up, and
 * the first cold call in a fresh process) against libseccomp building the
 * same filter the way runc does (seccomp_init, arch_add, rule_add for every
 * rule, export_bpf), timed inside a C program so no process start counts.
 *
 *   build/node bench/seccomp-compile.ts [runs]
 *
 * Prints the medians and the ratio berth/libseccomp. Needs cc and
 * libseccomp-dev for the reference (scripts/install.sh --test).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileSeccomp, defaultSeccompProfile } from '../src/runtime/seccomp/index.ts';
import { toHarnessInput } from '../test/unit/seccomp/libseccomp-reference.ts';

const runs = Number(process.argv[2] ?? 500);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const profile = defaultSeccompProfile({ capabilities: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'], nativeArch: 'x86_64' });

const t0 = performance.now();
const first = compileSeccomp(profile, { nativeArch: 'x86_64' });
const cold = performance.now() - t0;

const berth: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  compileSeccomp(profile, { nativeArch: 'x86_64' });
  berth.push(performance.now() - t);
}
// Building the profile itself is also on the start path.
const withProfile: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  compileSeccomp(defaultSeccompProfile({ capabilities: ['CAP_CHOWN'], nativeArch: 'x86_64' }), { nativeArch: 'x86_64' });
  withProfile.push(performance.now() - t);
}

function libseccompMedian(): number {
  const dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-bench-'));
  try {
    const harness = join(dir, 'harness');
    const source = join(import.meta.dirname, '..', 'test', 'fixtures', 'seccomp', 'libseccomp-harness.c');
    execFileSync('cc', ['-O2', '-o', harness, source, '-lseccomp']);
    const out = execFileSync(harness, ['bench', String(runs)], { input: toHarnessInput(profile, 'x86_64'), encoding: 'utf8' });
    return Number(out.trim());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const libMedian = libseccompMedian();

const berthMedian = median(berth);
console.log(`default profile (x86_64 + x86 + x32), ${first.program.length / 8} BPF instructions, ${runs} runs`);
console.log(`berth compileSeccomp      median ${berthMedian.toFixed(3)} ms (first call in this process: ${cold.toFixed(2)} ms)`);
console.log(`berth profile + compile   median ${median(withProfile).toFixed(3)} ms`);
console.log(`libseccomp (as runc uses) median ${libMedian.toFixed(3)} ms`);
console.log(`ratio berth/libseccomp    ${(berthMedian / libMedian).toFixed(2)}`);
