/**
 * Generates src/runtime/seccomp/syscalls.generated.ts: the syscall name →
 * number tables of the architectures berth's seccomp compiler knows, taken
 * from the kernel's own UAPI headers on this machine (never typed by hand):
 *
 *   x86_64, x86 (i386), x32   /usr/include/x86_64-linux-gnu/asm/unistd.h (linux-libc-dev)
 *   aarch64                   /usr/aarch64-linux-gnu/include/asm/unistd.h (linux-libc-dev-arm64-cross),
 *                             which selects its part of asm-generic/unistd.h
 *   arm (EABI)                /usr/arm-linux-gnueabihf/include/asm/unistd.h (linux-libc-dev-armhf-cross)
 *
 * The headers are run through the C preprocessor (`cc -E -dM`) with the
 * defines that select each ABI, so the conditionals of asm-generic/unistd.h
 * and the `__NR3264_*` indirections resolve exactly as they do for a
 * compiler targeting that architecture; the resulting macro bodies are small
 * sums of constants and other macros, evaluated here.
 *
 *   build/node scripts/gen-syscalls.ts          rewrite the table
 *   build/node scripts/gen-syscalls.ts --check  exit 1 if the committed table is stale
 *
 * test/unit/seccomp/syscalls-generated.test.ts fails when the committed file
 * differs from what this script produces.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface HeaderSource {
  arch: 'x86_64' | 'x86' | 'x32' | 'aarch64' | 'arm';
  /** The include directory whose asm/unistd.h is read. */
  includeDir: string;
  /** Extra include directories (asm-generic lives beside asm on the host). */
  extraIncludeDirs: string[];
  /** Preprocessor defines that select the ABI inside asm/unistd.h. */
  defines: string[];
  /** The Debian package that ships the header, for error messages. */
  debianPackage: string;
}

export const HEADER_SOURCES: readonly HeaderSource[] = [
  {
    arch: 'x86_64',
    includeDir: '/usr/include/x86_64-linux-gnu',
    extraIncludeDirs: ['/usr/include'],
    defines: ['-U__i386__', '-U__ILP32__'],
    debianPackage: 'linux-libc-dev',
  },
  {
    arch: 'x86',
    includeDir: '/usr/include/x86_64-linux-gnu',
    extraIncludeDirs: ['/usr/include'],
    defines: ['-D__i386__'],
    debianPackage: 'linux-libc-dev',
  },
  {
    arch: 'x32',
    includeDir: '/usr/include/x86_64-linux-gnu',
    extraIncludeDirs: ['/usr/include'],
    defines: ['-U__i386__', '-D__ILP32__'],
    debianPackage: 'linux-libc-dev',
  },
  {
    arch: 'aarch64',
    includeDir: '/usr/aarch64-linux-gnu/include',
    extraIncludeDirs: [],
    defines: [],
    debianPackage: 'linux-libc-dev-arm64-cross',
  },
  {
    arch: 'arm',
    includeDir: '/usr/arm-linux-gnueabihf/include',
    extraIncludeDirs: [],
    defines: ['-D__ARM_EABI__'],
    debianPackage: 'linux-libc-dev-armhf-cross',
  },
];

/** Macros named like syscalls that are bases, counts or placeholders. */
const NOT_SYSCALLS = new Set([
  'syscalls',
  'SYSCALL_BASE',
  'SYSCALL_MASK',
  'OABI_SYSCALL_BASE',
  'arch_specific_syscall',
  'BASE',
]);

/** The headers that must exist for the generator to run; empty when all do. */
export function missingHeaderPackages(): string[] {
  const missing = new Set<string>();
  for (const src of HEADER_SOURCES) {
    if (!existsSync(join(src.includeDir, 'asm', 'unistd.h'))) missing.add(src.debianPackage);
  }
  return [...missing];
}

function dumpMacros(src: HeaderSource): Map<string, string> {
  const args = ['-E', '-dM', '-nostdinc', '-I', src.includeDir];
  for (const dir of src.extraIncludeDirs) args.push('-I', dir);
  args.push(...src.defines, '-include', 'asm/unistd.h', '-x', 'c', '/dev/null');
  const out = execFileSync('cc', args, { encoding: 'utf8' });
  const macros = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^#define (\w+) (.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) macros.set(m[1], m[2].trim());
  }
  return macros;
}

/** Evaluates a macro body made of integers, macro names, `+`, `-` and parentheses. */
function evaluate(body: string, macros: Map<string, string>, depth = 0): number {
  if (depth > 16) throw new Error(`macro expansion too deep in "${body}"`);
  const tokens = body.match(/0x[0-9a-fA-F]+|\d+|\w+|[()+-]/g) ?? [];
  let pos = 0;
  const primary = (): number => {
    const tok = tokens[pos++];
    if (tok === undefined) throw new Error(`unexpected end of "${body}"`);
    if (tok === '(') {
      const v = sum();
      if (tokens[pos++] !== ')') throw new Error(`missing ")" in "${body}"`);
      return v;
    }
    if (/^(0x[0-9a-fA-F]+|\d+)$/.test(tok)) return Number(tok);
    const def = macros.get(tok);
    if (def === undefined) throw new Error(`undefined macro ${tok} in "${body}"`);
    return evaluate(def, macros, depth + 1);
  };
  const sum = (): number => {
    let v = primary();
    while (tokens[pos] === '+' || tokens[pos] === '-') {
      const op = tokens[pos++];
      const rhs = primary();
      v = op === '+' ? v + rhs : v - rhs;
    }
    return v;
  };
  const v = sum();
  if (pos !== tokens.length) throw new Error(`cannot evaluate "${body}"`);
  return v;
}

/** name → number for one architecture, sorted by number then name. */
export function readTable(src: HeaderSource): [string, number][] {
  const macros = dumpMacros(src);
  const entries: [string, number][] = [];
  for (const [macro, body] of macros) {
    const m = /^__(?:ARM_)?NR_(\w+)$/.exec(macro);
    if (m?.[1] === undefined || NOT_SYSCALLS.has(m[1])) continue;
    entries.push([m[1], evaluate(body, macros)]);
  }
  entries.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  return entries;
}

/**
 * The sub-call numbers of i386's multiplexers: socketcall(2) takes SYS_* from
 * linux/net.h, ipc(2) takes SEMOP..SHMCTL from linux/ipc.h. libseccomp adds a
 * socketcall/ipc rule for every socket or SysV IPC syscall named in a filter
 * for x86, and so does berth.
 */
export function readSubcalls(header: 'linux/net.h' | 'linux/ipc.h'): [string, number][] {
  const out = execFileSync('cc', ['-E', '-dM', '-nostdinc', '-I', '/usr/include/x86_64-linux-gnu', '-I', '/usr/include', '-include', header, '-x', 'c', '/dev/null'], {
    encoding: 'utf8',
  });
  const pattern = header === 'linux/net.h' ? /^#define SYS_([A-Z0-9]+) (\d+)$/ : /^#define ((?:SEM|MSG|SHM)[A-Z]+) (\d+)$/;
  const entries: [string, number][] = [];
  for (const line of out.split('\n')) {
    const m = pattern.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) entries.push([m[1].toLowerCase(), Number(m[2])]);
  }
  entries.sort((a, b) => a[1] - b[1]);
  return entries;
}

export function renderTable(): string {
  const lines = [
    '// Generated by scripts/gen-syscalls.ts from the kernel UAPI headers; do not edit.',
    '// Regenerate: build/node scripts/gen-syscalls.ts',
    '',
    '/** Syscall name → number per architecture, as the kernel headers define them. */',
    'export const SYSCALL_TABLES = {',
  ];
  for (const src of HEADER_SOURCES) {
    lines.push(`  ${src.arch}: {`);
    for (const [name, nr] of readTable(src)) {
      const value = nr >= 0x10000 ? `0x${nr.toString(16)}` : String(nr);
      lines.push(`    ${name}: ${value},`);
    }
    lines.push('  },');
  }
  lines.push('} as const satisfies Record<string, Readonly<Record<string, number>>>;', '');
  for (const [constName, header] of [
    ['SOCKETCALL_SUBCALLS', 'linux/net.h'],
    ['IPC_SUBCALLS', 'linux/ipc.h'],
  ] as const) {
    lines.push(`/** Sub-call numbers of i386's ${constName === 'IPC_SUBCALLS' ? 'ipc' : 'socketcall'}(2), from ${header}. */`);
    lines.push(`export const ${constName}: Readonly<Record<string, number>> = {`);
    for (const [name, nr] of readSubcalls(header)) lines.push(`  ${name}: ${nr},`);
    lines.push('};', '');
  }
  return lines.join('\n');
}

export const GENERATED_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'src',
  'runtime',
  'seccomp',
  'syscalls.generated.ts',
);

function main(): void {
  const missing = missingHeaderPackages();
  if (missing.length > 0) {
    console.error(`gen-syscalls: missing kernel headers; install: apt-get install ${missing.join(' ')}`);
    process.exit(1);
  }
  const text = renderTable();
  if (process.argv.includes('--check')) {
    const current = existsSync(GENERATED_PATH) ? readFileSync(GENERATED_PATH, 'utf8') : '';
    if (current !== text) {
      console.error(`gen-syscalls: ${GENERATED_PATH} is stale; run build/node scripts/gen-syscalls.ts`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(GENERATED_PATH, text);
  console.log(`gen-syscalls: wrote ${GENERATED_PATH}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
