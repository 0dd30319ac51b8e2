import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChange } from '../../../../src/image/copy/change.ts';
import type { ImageConfigDetails } from '../../../../src/oci/image-spec.ts';

test('--change words set config fields as docker import does', () => {
  const c: ImageConfigDetails = {};
  applyChange(c, 'CMD ["/bin/sh", "-c", "echo hi"]');
  applyChange(c, 'ENTRYPOINT /bin/tini');
  applyChange(c, 'ENV A=1 B="two"');
  applyChange(c, 'LABEL org.test=yes');
  applyChange(c, 'WORKDIR /srv');
  applyChange(c, 'USER 1000:1000');
  applyChange(c, 'EXPOSE 8080 53/udp');
  assert.deepEqual(c, {
    Cmd: ['/bin/sh', '-c', 'echo hi'],
    Entrypoint: ['/bin/sh', '-c', '/bin/tini'],
    Env: ['A=1', 'B=two'],
    Labels: { 'org.test': 'yes' },
    WorkingDir: '/srv',
    User: '1000:1000',
    ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
  });
  assert.throws(() => applyChange(c, 'RUN make'), /RUN.*not supported/);
  assert.throws(() => applyChange(c, 'CMD [1, 2]'), /JSON array of strings/);
});
