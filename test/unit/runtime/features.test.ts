/** `berth-runtime features` tells the truth: what it says is off is refused by the validator, never ignored. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSpec } from '../../../src/oci/default-spec.ts';
import type { Spec } from '../../../src/oci/runtime-spec.ts';
import { features } from '../../../src/runtime/features.ts';
import { semanticProblems } from '../../../src/runtime/spec/validate.ts';

const DISABLED: Record<string, [(s: Spec) => void, RegExp]> = {
  apparmor: [(s) => (s.process!.apparmorProfile = 'p'), /^process\.apparmorProfile: /],
  selinux: [(s) => (s.process!.selinuxLabel = 'l'), /^process\.selinuxLabel: /],
  intelRdt: [(s) => (s.linux!.intelRdt = { closID: 'c' }), /^linux\.intelRdt: /],
};

test('each feature listed as disabled is refused by name when a config asks for it', () => {
  const linux = features()['linux'] as Record<string, { enabled?: boolean }>;
  for (const [name, [edit, message]] of Object.entries(DISABLED)) {
    assert.equal(linux[name]?.enabled, false, name);
    const s = defaultSpec();
    edit(s);
    const problems = semanticProblems(s, { requireProcess: true });
    assert.equal(problems.length, 1, `${name}: ${problems.join('; ')}`);
    assert.match(problems[0] ?? '', message);
  }
});
