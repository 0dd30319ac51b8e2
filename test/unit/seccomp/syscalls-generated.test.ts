import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { GENERATED_PATH, missingHeaderPackages, renderTable } from '../../../scripts/gen-syscalls.ts';
import { SYSCALL_TABLES } from '../../../src/runtime/seccomp/syscalls.generated.ts';

const missing = missingHeaderPackages();

describe('generated syscall table', () => {
  it('matches what scripts/gen-syscalls.ts generates from the kernel headers', () => {
    // scripts/install.sh installs the header packages: missing ones are a failure, not a skip.
    assert.deepEqual(missing, [], `kernel headers missing: apt-get install ${missing.join(' ')}`);
    assert.equal(readFileSync(GENERATED_PATH, 'utf8'), renderTable(), 'stale: run build/node scripts/gen-syscalls.ts');
  });

  it('has the numbers each ABI is known for', () => {
    assert.equal(SYSCALL_TABLES.x86_64.read, 0);
    assert.equal(SYSCALL_TABLES.x86.read, 3);
    assert.equal(SYSCALL_TABLES.x32.read, 0x40000000);
    assert.equal(SYSCALL_TABLES.x32.rt_sigaction, 0x40000000 + 512);
    assert.equal(SYSCALL_TABLES.aarch64.read, 63);
    assert.equal(SYSCALL_TABLES.arm.read, 3);
    assert.equal(SYSCALL_TABLES.arm.breakpoint, 0xf0001);
    assert.equal('open' in SYSCALL_TABLES.aarch64, false, 'asm-generic has no open(2)');
    assert.equal('arch_specific_syscall' in SYSCALL_TABLES.aarch64, false, 'placeholders are not syscalls');
  });
});
