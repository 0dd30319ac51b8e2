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

  test('hostname and domainname need a uts namespace, new or joined by path (runc\'s rule)', () => {
    const joined = (s: Spec): void => {
      s.linux!.namespaces = s.linux!.namespaces!.map((ns) => (ns.type === 'uts' ? { type: 'uts', path: '/proc/1/ns/uts' } : ns));
      s.domainname = 'example';
    };
    assert.deepEqual(problems(joined), []);
    assert.deepEqual(
      problems((s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'uts');
        s.domainname = 'example';
      }),
      ['hostname: setting the hostname needs a uts namespace', 'domainname: setting the domain name needs a uts namespace'],
    );
  });

  test('without a mount namespace, what would mount in the runtime\'s or write devices into the root is refused by field', () => {
    const noMountNs = (s: Spec): void => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'mount');
    };
    assert.deepEqual(
      problems((s) => {
        noMountNs(s);
        s.linux!.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }];
        s.linux!.rootfsPropagation = 'rshared';
      }),
      [
        'mounts: needs a mount namespace (the container has the runtime\'s)',
        'root.readonly: needs a mount namespace (the container has the runtime\'s)',
        'linux.maskedPaths: needs a mount namespace (the container has the runtime\'s)',
        'linux.readonlyPaths: needs a mount namespace (the container has the runtime\'s)',
        'linux.devices: needs a mount namespace (the container has the runtime\'s)',
        'linux.rootfsPropagation: needs a mount namespace (the container has the runtime\'s)',
      ],
    );
    assert.deepEqual(
      problems((s) => {
        s.linux!.namespaces = [];
        s.mounts = [];
        s.root!.readonly = false;
        delete s.hostname;
        s.linux!.maskedPaths = [];
        s.linux!.readonlyPaths = [];
      }),
      [],
    );
  });
});
