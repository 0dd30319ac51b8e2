/** Capability names → the bit masks capset(2) takes, and back. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { capabilityMask, capabilityMasks, capabilityNames } from '../../../../src/runtime/plan/capabilities.ts';

describe('capability masks', () => {
  test('names become bits by their kernel numbers, above 32 too', () => {
    assert.equal(capabilityMask(['CAP_CHOWN']), 1n);
    assert.equal(capabilityMask(['CAP_KILL', 'CAP_NET_RAW', 'CAP_KILL']), (1n << 5n) | (1n << 13n));
    assert.equal(capabilityMask(['CAP_CHECKPOINT_RESTORE', 'CAP_BPF']), (1n << 40n) | (1n << 39n));
    assert.equal(capabilityMask(undefined), 0n);
    assert.equal(capabilityMask([]), 0n);
  });

  test('the five sets are separate; a missing set is empty', () => {
    assert.deepEqual(capabilityMasks({ bounding: ['CAP_SYS_ADMIN'], ambient: ['CAP_NET_BIND_SERVICE'] }), {
      bounding: 1n << 21n,
      effective: 0n,
      permitted: 0n,
      inheritable: 0n,
      ambient: 0n,
    });
    const all = ['CAP_NET_BIND_SERVICE'];
    assert.equal(capabilityMasks({ permitted: all, inheritable: all, ambient: all }).ambient, 1n << 10n);
  });

  test('ambient keeps only what is permitted and inheritable, as the kernel allows (runc 1.1 spec)', () => {
    const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    const m = capabilityMasks({ bounding: caps, effective: caps, permitted: caps, ambient: caps });
    assert.equal(m.ambient, 0n);
    assert.equal(m.permitted, 0x20000420n);
    const some = capabilityMasks({ permitted: caps, inheritable: ['CAP_KILL', 'CAP_CHOWN'], ambient: ['CAP_KILL', 'CAP_CHOWN'] });
    assert.equal(some.ambient, 1n << 5n);
  });

  test('masks read back as names', () => {
    assert.deepEqual(capabilityNames(0x20000420n), ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_AUDIT_WRITE']);
    assert.deepEqual(capabilityNames(0n), []);
  });
});
