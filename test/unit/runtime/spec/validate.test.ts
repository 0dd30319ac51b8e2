/** The runtime's own rules on a config, beyond the schema: what is refused, and by which field. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultSpec } from '../../../../src/oci/default-spec.ts';
import type { Spec } from '../../../../src/oci/runtime-spec.ts';
import { semanticProblems } from '../../../../src/runtime/spec/validate.ts';

function problems(edit: (s: Spec) => void): string[] {
  const s = defaultSpec();
  edit(s);
  return semanticProblems(s, { requireProcess: true });
}

describe('semanticProblems', () => {
  test('runc\'s default spec has none', () => {
    assert.deepEqual(problems(() => undefined), []);
  });

  test('an AppArmor profile or SELinux label is refused by name, never ignored; empty ones are no request', () => {
    assert.deepEqual(problems((s) => (s.process!.apparmorProfile = 'docker-default')), [
      'process.apparmorProfile: AppArmor profiles are not supported by berth-runtime',
    ]);
    assert.deepEqual(problems((s) => (s.process!.selinuxLabel = 'system_u:system_r:container_t:s0')), [
      'process.selinuxLabel: SELinux labels are not supported by berth-runtime',
    ]);
    assert.deepEqual(
      problems((s) => {
        s.process!.apparmorProfile = '';
        s.process!.selinuxLabel = '';
      }),
      [],
    );
  });
});
