import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMount, parseMounts, parseTmpfs, parseVolume } from '../../../../src/engine/spec/mounts.ts';
import { throwsCode } from './helpers.ts';

test('-v: anonymous, named and bind, with ro/rw, z, propagation and nocopy', () => {
  assert.deepEqual(parseVolume('/data'), { type: 'volume', target: '/data', readonly: false, nocopy: false });
  assert.deepEqual(parseVolume('db:/var/lib/db'), { type: 'volume', name: 'db', target: '/var/lib/db', readonly: false, nocopy: false });
  assert.deepEqual(parseVolume('db:/x:ro,nocopy'), { type: 'volume', name: 'db', target: '/x', readonly: true, nocopy: true });
  assert.deepEqual(parseVolume('/host/dir/:/x/:rw,z'), { type: 'bind', source: '/host/dir', target: '/x', readonly: false });
  assert.deepEqual(parseVolume('/h:/x:ro,rshared'), { type: 'bind', source: '/h', target: '/x', readonly: true, propagation: 'rshared' });
});

test('-v refusals name the value', () => {
  throwsCode(() => parseVolume('./dir:/x'), 'run_flag_invalid', /--volume "\.\/dir:\/x": "\.\/dir" is not a volume name.*absolute path/);
  throwsCode(() => parseVolume('data'), 'run_flag_invalid', /target "data" is not an absolute path/);
  throwsCode(() => parseVolume('db:relative'), 'run_flag_invalid', /"relative" is not an absolute path/);
  throwsCode(() => parseVolume('/h:/'), 'run_flag_invalid', /cannot be "\/"/);
  throwsCode(() => parseVolume('/h:/x:bogus'), 'run_flag_invalid', /invalid mode "bogus"/);
  throwsCode(() => parseVolume('/h:/x:'), 'run_flag_invalid', /invalid mode ""/);
  throwsCode(() => parseVolume('/h:/x:ro,rw'), 'run_flag_invalid', /"rw" conflicts/);
  throwsCode(() => parseVolume('/h:/x:nocopy'), 'run_flag_invalid', /invalid mode "nocopy"/);
  throwsCode(() => parseVolume('db:/x:rshared'), 'run_flag_invalid', /invalid mode "rshared"/);
  throwsCode(() => parseVolume('a:/b:ro:x'), 'run_flag_invalid', /too many ":"/);
  throwsCode(() => parseVolume(':/x'), 'run_flag_invalid', /source is empty/);
});

test('--mount: types, aliases, readonly forms, tmpfs size and mode', () => {
  assert.deepEqual(parseMount('type=bind,src=/h,dst=/x,readonly'), { type: 'bind', source: '/h', target: '/x', readonly: true });
  assert.deepEqual(parseMount('type=bind,source=/h,target=/x,ro=false,bind-propagation=rslave'), { type: 'bind', source: '/h', target: '/x', readonly: false, propagation: 'rslave' });
  assert.deepEqual(parseMount('source=vol,target=/v'), { type: 'volume', name: 'vol', target: '/v', readonly: false, nocopy: false });
  assert.deepEqual(parseMount('type=volume,destination=/v,volume-nocopy'), { type: 'volume', target: '/v', readonly: false, nocopy: true });
  assert.deepEqual(parseMount('type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770'), { type: 'tmpfs', target: '/t', options: ['noexec', 'nosuid', 'nodev', 'size=64m', 'mode=1770'] });
});

test('--mount refusals', () => {
  throwsCode(() => parseMount('type=bind,source=/h'), 'run_flag_invalid', /--mount "type=bind,source=\/h": target is required/);
  throwsCode(() => parseMount('type=bind,target=/x'), 'run_flag_invalid', /source is required/);
  throwsCode(() => parseMount('type=tmpfs,source=x,target=/t'), 'run_flag_invalid', /source is not supported for tmpfs/);
  throwsCode(() => parseMount('type=npipe,target=/t'), 'run_flag_invalid', /type "npipe"/);
  throwsCode(() => parseMount('type=bind,source=/h,target=/x,colour=blue'), 'run_flag_invalid', /unexpected key "colour"/);
  throwsCode(() => parseMount('type=bind,source=/h,target=/x,readonly=maybe'), 'run_flag_invalid', /readonly: "maybe"/);
  throwsCode(() => parseMount('type=tmpfs,target=/t,tmpfs-size=lots'), 'run_flag_invalid', /tmpfs-size: "lots"/);
  throwsCode(() => parseMount('type=tmpfs,target=/t,tmpfs-mode=999'), 'run_flag_invalid', /tmpfs-mode: "999"/);
  throwsCode(() => parseMount('type=volume,target=/t,tmpfs-size=1m'), 'run_flag_invalid', /tmpfs options are for type=tmpfs/);
  throwsCode(() => parseMount('type=bind,source=rel,target=/t'), 'run_flag_invalid', /"rel" is not an absolute path/);
});

test('--tmpfs: docker\'s defaults, a given option replacing its opposite, unknown options refused', () => {
  assert.deepEqual(parseTmpfs('/run'), { type: 'tmpfs', target: '/run', options: ['noexec', 'nosuid', 'nodev'] });
  assert.deepEqual(parseTmpfs('/run:exec,size=1m,mode=700'), { type: 'tmpfs', target: '/run', options: ['nosuid', 'nodev', 'exec', 'size=1m', 'mode=700'] });
  throwsCode(() => parseTmpfs('/run:rbind'), 'run_flag_invalid', /--tmpfs "\/run:rbind": "rbind" is not a tmpfs option/);
  throwsCode(() => parseTmpfs('run'), 'run_flag_invalid', /not an absolute path/);
});

test('the same target twice is refused, whichever flags give it', () => {
  throwsCode(() => parseMounts(['/h:/x'], [], ['/x/']), 'run_flag_invalid', /--tmpfs "\/x\/": duplicate mount point "\/x" \(also given by --volume "\/h:\/x"\)/);
  assert.equal(parseMounts(['/a'], ['type=tmpfs,target=/b'], ['/c']).length, 3);
});
