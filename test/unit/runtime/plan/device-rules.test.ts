/** effectiveResources: the spec's device rules, then what a container may always use, then the devices it creates. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LinuxDeviceCgroup, Spec } from '../../../../src/oci/runtime-spec.ts';
import { effectiveResources } from '../../../../src/runtime/plan/device-rules.ts';
import { spec } from './helpers.ts';

const allows = (rules: LinuxDeviceCgroup[] | undefined, type: string, major: number, minor: number): boolean => {
  // Later rules win, as the device cgroup applies them in order.
  let allowed = false;
  for (const r of rules ?? []) {
    const matches = (r.type === undefined || r.type === 'a' || r.type === type) && (r.major === undefined || r.major === major) && (r.minor === undefined || r.minor === minor);
    if (matches && (r.access ?? 'rwm').includes('r')) allowed = r.allow;
  }
  return allowed;
};

describe('effectiveResources', () => {
  test('no resources, or no device rules: nothing is added', () => {
    assert.equal(effectiveResources(spec((s) => delete s.linux!.resources)), undefined);
    const s: Spec = spec((x) => (x.linux!.resources = { pids: { limit: 10 } }));
    assert.equal(effectiveResources(s), s.linux!.resources);
  });

  test('deny-all from the spec still leaves the standard devices, pseudo-terminals and tun', () => {
    const r = effectiveResources(spec());
    const rules = r?.devices;
    assert.deepEqual(rules?.[0], { allow: false, access: 'rwm' });
    for (const [major, minor] of [
      [1, 3],
      [1, 5],
      [1, 7],
      [1, 8],
      [1, 9],
      [5, 0],
      [5, 2],
      [136, 0],
      [136, 77],
      [10, 200],
    ] as const) {
      assert.ok(allows(rules, 'c', major, minor), `c ${major}:${minor}`);
    }
    assert.equal(allows(rules, 'c', 1, 1), false, '/dev/mem');
    assert.equal(allows(rules, 'b', 8, 0), false, 'a disk');
    // mknod of anything is allowed; opening is what the rules decide.
    assert.ok(rules?.some((x) => x.allow && x.type === 'c' && x.access === 'm' && x.major === undefined));
    assert.ok(rules?.some((x) => x.allow && x.type === 'b' && x.access === 'm' && x.major === undefined));
  });

  test('devices the spec creates are allowed after the spec\'s own rules (fifos need no rule)', () => {
    const r = effectiveResources(
      spec((s) => {
        s.linux!.devices = [
          { path: '/dev/sda', type: 'b', major: 8, minor: 0 },
          { path: '/dev/fuse', type: 'c', major: 10, minor: 229 },
          { path: '/dev/p', type: 'p' },
        ];
        s.linux!.resources!.devices!.push({ allow: false, type: 'b', major: 8, minor: 0, access: 'rwm' });
      }),
    );
    const rules = r?.devices ?? [];
    assert.deepEqual(rules.slice(-2), [
      { allow: true, type: 'b', major: 8, minor: 0, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
    ]);
    assert.ok(allows(rules, 'b', 8, 0));
    assert.equal(rules.filter((x) => x.type === 'p').length, 0);
  });
});
