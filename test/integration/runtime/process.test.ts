/**
 * The container process as it sees itself (root): arguments, environment,
 * working directory, user and groups, umask, resource limits,
 * no_new_privs, oom_score_adj, the five capability sets, and which file
 * descriptors it holds. What this machine forbids (raising a hard limit or
 * lowering oom_score_adj without CAP_SYS_RESOURCE) must fail by name.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { Spec } from '../../../src/oci/runtime-spec.ts';
import { CAPABILITIES } from '../../../src/runtime/linux/constants.ts';
import { berthOnly, byRuntime, cgroupLeftovers, makeBundle, type Result, tempDir, uniqueId, RuntimeFixture } from '../../helpers/runtime.ts';

async function runIn(t: TestContext, rt: RuntimeFixture, args: string[], edit?: (spec: Spec) => void): Promise<Result & { id: string }> {
  const bundle = makeBundle(t, { args, ...(edit ? { edit } : {}) });
  return rt.runBundle(bundle);
}

async function inside(t: TestContext, script: string, edit?: (spec: Spec) => void): Promise<string> {
  const r = await runIn(t, new RuntimeFixture(t), ['sh', '-c', script], edit);
  assert.equal(r.code, 0, `container failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** "Name:\tvalue" lines of /proc/PID/status. */
function statusFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

/** /proc/PID/limits → name → [soft, hard]. */
function limits(text: string): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const line of text.split('\n').slice(1)) {
    const m = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (m?.[1] && m[2] && m[3]) out[m[1]] = [m[2], m[3]];
  }
  return out;
}

function capHex(names: string[]): string {
  let mask = 0n;
  for (const name of names) {
    const bit = CAPABILITIES[name];
    assert.ok(bit !== undefined, name);
    mask |= 1n << BigInt(bit);
  }
  return mask.toString(16).padStart(16, '0');
}

function hasCapability(bit: number): boolean {
  const eff = statusFields(readFileSync('/proc/self/status', 'utf8'))['CapEff'] ?? '0';
  return ((BigInt(`0x${eff}`) >> BigInt(bit)) & 1n) === 1n;
}

describe('berth-runtime process (root)', () => {
  test('args reach the program exactly: spaces, quotes, empty and non-ASCII arguments', async (t) => {
    const args = ['sh', '-c', 'for a in "$@"; do printf "[%s]" "$a"; done; echo; tr "\\0" "|" < /proc/1/cmdline; true', 'zero', 'a b', "c'd", '', 'é"'];
    const out = await inside(t, '', (spec) => {
      spec.process!.args = args;
    });
    const [printed, cmdline] = out.split('\n');
    // sh is pid 1 (the trailing `true` keeps it from exec-ing tr).
    assert.equal(printed, `[a b][c'd][][é"]`);
    assert.equal(cmdline, `${args.join('|')}|`);
  });

  test('env is exactly the spec\'s, in order (and HOME, which runc adds when missing)', async (t) => {
    const env = ['PATH=/bin:/usr/bin', 'A=1', 'WITH_SPACE=a b', 'EMPTY=', 'UNICODE=é'];
    // `; true` keeps sh as pid 1 (it would exec the last command): its environ is what it was given.
    const out = await inside(t, 'tr "\\0" "\\n" < /proc/1/environ; true', (spec) => {
      spec.process!.env = env;
    });
    assert.deepEqual(out.split('\n').filter(Boolean), [...env, 'HOME=/root']);
  });

  test('cwd: the process starts in it', async (t) => {
    const out = await inside(t, 'pwd', (spec) => {
      spec.process!.cwd = '/etc';
    });
    assert.equal(out, '/etc\n');
  });

  test('cwd that is not a directory fails create, naming it', async (t) => {
    const rt = new RuntimeFixture(t);
    const r = await runIn(t, rt, ['true'], (spec) => {
      spec.process!.cwd = '/etc/passwd';
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, byRuntime(/working directory "\/etc\/passwd".*not a directory/, /mkdir \/etc\/passwd: not a directory/));
    assert.deepEqual(rt.leftovers(), []);
    assert.deepEqual(cgroupLeftovers(r.id), []);
  });

  test('user: uid, gid, additional groups and umask', async (t) => {
    const out = await inside(t, 'id; umask; touch /scratch/f; stat -c %a /scratch/f; grep -E "^(Uid|Gid|Groups):" /proc/self/status', (spec) => {
      spec.process!.user = { uid: 1000, gid: 1001, additionalGids: [10, 20], umask: 0o077 };
      spec.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777', 'size=1m'] });
    });
    const lines = out.split('\n');
    assert.equal(lines[0], 'uid=1000 gid=1001 groups=10,20');
    assert.equal(lines[1], '0077');
    assert.equal(lines[2], '600');
    const status = statusFields(lines.slice(3).join('\n'));
    assert.equal(status['Uid'], '1000\t1000\t1000\t1000');
    assert.equal(status['Gid'], '1001\t1001\t1001\t1001');
    assert.equal(status['Groups']?.trim(), '10 20');
  });

  test('rlimits: lowered limits are what the process gets', async (t) => {
    const out = await inside(t, 'cat /proc/self/limits', (spec) => {
      spec.process!.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
        { type: 'RLIMIT_NPROC', soft: 500, hard: 600 },
      ];
    });
    const got = limits(out);
    assert.deepEqual(got['Max open files'], ['100', '200']);
    assert.deepEqual(got['Max core file size'], ['0', '0']);
    assert.deepEqual(got['Max processes'], ['500', '600']);
  });

  test('rlimits: RLIM_INFINITY as JSON (2^64-1) means unlimited', async (t) => {
    const own = limits(readFileSync('/proc/self/limits', 'utf8'))['Max core file size'];
    // Only a runtime that may keep its own unlimited hard limit can pass it on; a soft limit below it shows the change.
    if (own?.[1] !== 'unlimited') return t.skip(`the runtime's hard core size limit is ${own?.[1]}`);
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['cat', '/proc/self/limits'] });
    // Written by hand: JSON.stringify cannot write 18446744073709551615 exactly.
    const config = JSON.stringify(bundle.spec).replace('"rlimits":[', '"rlimits":[{"type":"RLIMIT_CORE","soft":18446744073709551615,"hard":18446744073709551615},');
    writeFileSync(join(bundle.dir, 'config.json'), config);
    const r = await rt.runBundle(bundle);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(limits(r.stdout)['Max core file size'], ['unlimited', 'unlimited']);
  });

  test('rlimits: a hard limit above the runtime\'s own fails clearly without CAP_SYS_RESOURCE', async (t) => {
    const own = limits(readFileSync('/proc/self/limits', 'utf8'))['Max open files'];
    assert.ok(own);
    const hard = Number(own[1]) + 1;
    const rt = new RuntimeFixture(t);
    const r = await runIn(t, rt, ['sh', '-c', 'cat /proc/self/limits'], (spec) => {
      spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard }];
    });
    if (hasCapability(CAPABILITIES['CAP_SYS_RESOURCE'] ?? -1)) {
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(limits(r.stdout)['Max open files'], ['100', String(hard)]);
      return;
    }
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, byRuntime(new RegExp(`set RLIMIT_NOFILE to soft 100, hard ${hard}`), /error setting rlimit type 7/));
    assert.match(r.stderr, /operation not permitted/);
    assert.deepEqual(rt.leftovers(), []);
    assert.deepEqual(cgroupLeftovers(r.id), []);
  });

  test('rlimits: soft above hard is refused before anything runs', async (t) => {
    const rt = new RuntimeFixture(t);
    const r = await runIn(t, rt, ['true'], (spec) => {
      spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 300, hard: 200 }];
    });
    assert.notEqual(r.code, 0);
    // runc 1.1 finds out only when setting it, inside the new container.
    assert.match(r.stderr, byRuntime(/process\.rlimits\[0\]: soft limit 300 above hard limit 200/, /error setting rlimit type 7: invalid argument/));
    assert.deepEqual(rt.leftovers(), []);
  });

  test('noNewPrivileges: NoNewPrivs in /proc/self/status follows the spec', async (t) => {
    for (const nnp of [true, false]) {
      const out = await inside(t, 'grep NoNewPrivs /proc/self/status', (spec) => {
        spec.process!.noNewPrivileges = nnp;
      });
      assert.equal(out, `NoNewPrivs:\t${nnp ? 1 : 0}\n`);
    }
  });

  test('oomScoreAdj: raising works', async (t) => {
    const out = await inside(t, 'cat /proc/self/oom_score_adj', (spec) => {
      spec.process!.oomScoreAdj = 500;
    });
    assert.equal(out, '500\n');
  });

  test('oomScoreAdj: lowering below the runtime\'s own fails clearly without CAP_SYS_RESOURCE', async (t) => {
    const current = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
    const wanted = Math.max(-1000, current - 100);
    const rt = new RuntimeFixture(t);
    const r = await runIn(t, rt, ['cat', '/proc/self/oom_score_adj'], (spec) => {
      spec.process!.oomScoreAdj = wanted;
    });
    if (hasCapability(CAPABILITIES['CAP_SYS_RESOURCE'] ?? -1) || wanted === current) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${wanted}\n`);
      return;
    }
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, byRuntime(new RegExp(`set oom_score_adj to ${wanted}`), /failed to update \/proc\/self\/oom_score_adj/));
    assert.match(r.stderr, /permission denied/i);
    assert.deepEqual(rt.leftovers(), []);
  });

  test('capabilities as root: the five sets are the spec\'s', async (t) => {
    const bounding = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_KILL', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYS_CHROOT'];
    const inheritable = ['CAP_NET_ADMIN', 'CAP_NET_RAW'];
    const ambient = ['CAP_NET_RAW'];
    const out = await inside(t, 'grep ^Cap /proc/self/status', (spec) => {
      spec.process!.capabilities = { bounding, effective: bounding, permitted: bounding, inheritable, ambient };
    });
    const s = statusFields(out);
    assert.equal(s['CapBnd'], capHex(bounding));
    assert.equal(s['CapPrm'], capHex(bounding));
    assert.equal(s['CapEff'], capHex(bounding));
    assert.equal(s['CapInh'], capHex(inheritable));
    assert.equal(s['CapAmb'], capHex(ambient));
  });

  test('capabilities as a non-root user: ambient capabilities are kept across exec', async (t) => {
    const bounding = ['CAP_CHOWN', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_NET_BIND_SERVICE'];
    const inheritable = ['CAP_NET_RAW', 'CAP_NET_BIND_SERVICE'];
    const ambient = ['CAP_NET_RAW', 'CAP_NET_BIND_SERVICE'];
    const out = await inside(t, 'id -u; grep ^Cap /proc/self/status', (spec) => {
      spec.process!.user = { uid: 1000, gid: 1000 };
      spec.process!.capabilities = { bounding, effective: ambient, permitted: ambient, inheritable, ambient };
    });
    const [uid, ...rest] = out.split('\n');
    assert.equal(uid, '1000');
    const s = statusFields(rest.join('\n'));
    assert.equal(s['CapBnd'], capHex(bounding));
    assert.equal(s['CapInh'], capHex(inheritable));
    // A non-root exec keeps exactly the ambient set as permitted and effective.
    assert.equal(s['CapAmb'], capHex(ambient));
    assert.equal(s['CapPrm'], capHex(ambient));
    assert.equal(s['CapEff'], capHex(ambient));
  });

  test('ambient capabilities that are not inheritable: what the kernel allows, the rest left out (runc 1.1\'s own spec)', async (t) => {
    const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    const out = await inside(t, 'grep ^Cap /proc/self/status', (spec) => {
      spec.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: ['CAP_KILL'], ambient: caps };
    });
    const s = statusFields(out);
    assert.equal(s['CapPrm'], capHex(caps));
    assert.equal(s['CapAmb'], capHex(['CAP_KILL']));
  });

  test('no capabilities in the config: none at all, as runc (never the runtime\'s own set)', async (t) => {
    const out = await inside(t, 'grep ^Cap /proc/self/status', (spec) => {
      delete spec.process!.capabilities;
    });
    const s = statusFields(out);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(s[set], '0000000000000000', set);
  });

  test('capabilities are enforced: chown needs CAP_CHOWN', async (t) => {
    const script = 'touch /scratch/f; chown 1234 /scratch/f 2>&1; echo "rc=$?"';
    const scratch = (spec: Spec): void => {
      spec.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    };
    const without = await inside(t, script, scratch);
    assert.match(without, /Operation not permitted\nrc=1\n$/);
    const caps = ['CAP_CHOWN', 'CAP_KILL'];
    const withCap = await inside(t, script, (spec) => {
      scratch(spec);
      spec.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
    });
    assert.equal(withCap, 'rc=0\n');
  });

  test('an unknown capability is refused by name', { skip: berthOnly('runc 1.1 ignores an unknown capability with a warning') }, async (t) => {
    const rt = new RuntimeFixture(t);
    const r = await runIn(t, rt, ['true'], (spec) => {
      spec.process!.capabilities!.bounding = ['CAP_CHOWN', 'CAP_FLY'];
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /process\.capabilities\.bounding\[1\]: unknown capability "CAP_FLY"/);
  });

  test('file descriptors: a detached container holds only its stdio', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sleep', '1000'] });
    const id = rt.track(uniqueId());
    const r = await rt.run(['run', '--detach', '--bundle', bundle.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    const { pid } = await rt.state(id);
    assert.deepEqual(readdirSync(`/proc/${pid}/fd`).sort(), ['0', '1', '2']);
  });

  test('file descriptors: --preserve-fds passes fd 3 on, nothing else leaks', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'preserved');
    writeFileSync(file, 'through fd 3\n');
    const fd = openSync(file, 'r');
    t.after(() => closeSync(fd));
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sh', '-c', 'cat <&3; ls /proc/self/fd'] });
    const id = rt.track(uniqueId());
    const r = await rt.run(['run', '--preserve-fds', '1', '--bundle', bundle.dir, id], { stdio: ['pipe', 'pipe', 'pipe', fd] });
    assert.equal(r.code, 0, r.stderr);
    const [content, ...fds] = r.stdout.trim().split('\n');
    assert.equal(content, 'through fd 3');
    // ls itself holds one more: the directory it reads.
    assert.deepEqual(fds.sort(), ['0', '1', '2', '3', '4']);
  });
});

describe('what runc adds to the process (root)', () => {
  test('HOME comes from the container\'s /etc/passwd when the spec has none; a given HOME wins', async (t) => {
    const rt = new RuntimeFixture(t);
    const asRoot = makeBundle(t, { args: ['sh', '-c', 'echo $HOME'] });
    assert.equal((await rt.runBundle(asRoot)).stdout, '/root\n');
    const asNobody = makeBundle(t, { args: ['sh', '-c', 'echo $HOME'], edit: (s) => (s.process!.user = { uid: 65534, gid: 65534 }) });
    assert.equal((await rt.runBundle(asNobody)).stdout, '/home\n');
    const unknown = makeBundle(t, { args: ['sh', '-c', 'echo $HOME'], edit: (s) => (s.process!.user = { uid: 4242, gid: 4242 }) });
    assert.equal((await rt.runBundle(unknown)).stdout, '/\n');
    const given = makeBundle(t, { args: ['sh', '-c', 'echo $HOME'], edit: (s) => s.process!.env!.push('HOME=/elsewhere') });
    assert.equal((await rt.runBundle(given)).stdout, '/elsewhere\n');
  });

  test('a FIFO planted at /etc/passwd does not hang the start', { skip: berthOnly('runc 1.1 hangs reading it') }, async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sh', '-c', 'echo $HOME'] });
    rmSync(join(bundle.rootfs, 'etc', 'passwd'));
    execFileSync('mkfifo', [join(bundle.rootfs, 'etc', 'passwd')]);
    const r = await rt.runBundle(bundle);
    assert.equal(r.stdout, '/\n', r.stderr);
  });

  test('a missing working directory is created inside the root', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['pwd'], edit: (s) => (s.process!.cwd = '/made/for/you') });
    const r = await rt.runBundle(bundle);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '/made/for/you\n');
  });
});
