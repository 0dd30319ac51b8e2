/**
 * `exec` into running berth-runtime containers (root): the new process
 * joins every namespace and the cgroup of the container, takes --env,
 * --cwd, --user, --additional-gids, --cap, --tty (with a console socket or
 * proxied), --detach with --pid-file and --process, and passes its exit
 * status through; exec into a stopped container fails by name.
 */
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { Spec } from '../../../src/oci/runtime-spec.ts';
import { CAPABILITIES } from '../../../src/runtime/linux/constants.ts';
import { startRecvtty } from '../../helpers/recvtty.ts';
import { berthOnly, byRuntime, makeBundle, RuntimeFixture, tempDir, uniqueId, waitFor } from '../../helpers/runtime.ts';

interface Running {
  rt: RuntimeFixture;
  id: string;
  pid: number;
  cgroup: string;
}

/** A detached container running `sleep 1000`, hostname "exec-target", in cgroup /berth/ID. */
async function running(t: TestContext, edit?: (spec: Spec) => void): Promise<Running> {
  const rt = new RuntimeFixture(t);
  const id = rt.track(uniqueId());
  const cgroup = `/berth/${id}`;
  const bundle = makeBundle(t, {
    args: ['sleep', '1000'],
    edit: (spec) => {
      spec.hostname = 'exec-target';
      spec.linux!.cgroupsPath = cgroup;
      edit?.(spec);
    },
  });
  const r = await rt.run(['run', '--detach', '--bundle', bundle.dir, id]);
  assert.equal(r.code, 0, r.stderr);
  const { pid } = await rt.state(id);
  assert.ok(pid);
  return { rt, id, pid, cgroup };
}

function capField(text: string, name: string): bigint {
  const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(text);
  assert.ok(m?.[1], `${name} in ${text}`);
  return BigInt(`0x${m[1]}`);
}

const NS_TYPES = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup'];

describe('berth-runtime exec (root)', () => {
  test('exec joins every namespace of the container and sees its pid 1', async (t) => {
    const { rt, id, pid } = await running(t);
    const script = `hostname; echo "self=$$"; for ns in ${NS_TYPES.join(' ')}; do readlink /proc/self/ns/$ns; done; cat /proc/1/cmdline | tr "\\0" " "; echo; true`;
    const r = await rt.run(['exec', id, 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const [hostname, self, ...rest] = r.stdout.split('\n');
    assert.equal(hostname, 'exec-target');
    assert.notEqual(self, 'self=1');
    assert.deepEqual(rest.slice(0, NS_TYPES.length), NS_TYPES.map((ns) => readlinkSync(`/proc/${pid}/ns/${ns}`)));
    assert.equal(rest[NS_TYPES.length], 'sleep 1000 ');
  });

  test('--env, --cwd, --user and --additional-gids', async (t) => {
    const { rt, id } = await running(t);
    const r = await rt.run(['exec', '--env', 'FOO=bar', '--env', 'SPACED=a b', '--cwd', '/etc', '--user', '1000:1001', '--additional-gids', '7', '--additional-gids', '8', id, 'sh', '-c', 'id; pwd; echo "$FOO|$SPACED"; echo "$PATH"']);
    assert.equal(r.code, 0, r.stderr);
    // The container's own environment (PATH) stays; the flags add to it.
    assert.equal(r.stdout, 'uid=1000 gid=1001 groups=7,8\n/etc\nbar|a b\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
  });

  test('the container\'s capabilities by default, more with --cap', async (t) => {
    const { rt, id, pid } = await running(t);
    const initCaps = readFileSync(`/proc/${pid}/status`, 'utf8');
    const plain = await rt.run(['exec', id, 'grep', '^Cap', '/proc/self/status']);
    assert.equal(plain.code, 0, plain.stderr);
    for (const set of ['CapBnd', 'CapPrm', 'CapEff']) assert.equal(capField(plain.stdout, set), capField(initCaps, set), set);
    const netAdmin = 1n << BigInt(CAPABILITIES['CAP_NET_ADMIN'] ?? 0);
    assert.equal(capField(plain.stdout, 'CapEff') & netAdmin, 0n);
    const more = await rt.run(['exec', '--cap', 'CAP_NET_ADMIN', id, 'sh', '-c', 'grep ^Cap /proc/self/status; ip link set lo up && echo lo-up']);
    assert.equal(more.code, 0, more.stderr);
    for (const set of ['CapBnd', 'CapPrm', 'CapEff']) assert.equal(capField(more.stdout, set), capField(initCaps, set) | netAdmin, set);
    assert.match(more.stdout, /lo-up\n$/);
  });

  test('--tty with --console-socket sends the terminal to the socket', { skip: berthOnly('runc 1.1 takes a console socket only with --detach') }, async (t) => {
    const { rt, id } = await running(t);
    const tty = await startRecvtty(t);
    const r = await rt.run(['exec', '--tty', '--console-socket', tty.socket, id, 'sh', '-c', 'tty; exit 5']);
    assert.equal(r.code, 5, r.stderr);
    assert.equal(await tty.exited, 0, tty.log());
    assert.match(tty.output(), /^\/dev\/pts\/\d+\r\n$/);
  });

  test('--tty without a console socket proxies the terminal in the foreground', { skip: berthOnly('runc proxies only a terminal of its own (it opens /dev/tty)') }, async (t) => {
    const { rt, id } = await running(t);
    const r = await rt.run(['exec', '--tty', id, 'sh', '-c', 'tty; read x; echo "got:$x"'], { input: 'abc\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /(^|\r\n)\/dev\/pts\/\d+\r\n/);
    assert.match(r.stdout, /\r\ngot:abc\r\n$/);
  });

  test('--detach with --pid-file: the process runs on in the container\'s pid namespace and cgroup', async (t) => {
    const { rt, id, pid, cgroup } = await running(t);
    const pidFile = join(tempDir(t), 'exec.pid');
    const r = await rt.run(['exec', '--detach', '--pid-file', pidFile, id, 'sleep', '999']);
    assert.equal(r.code, 0, r.stderr);
    const execPid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(execPid > 0 && execPid !== pid);
    await waitFor('sleep to exec', () => (readFileSync(`/proc/${execPid}/cmdline`, 'utf8') === 'sleep\u0000999\u0000' ? true : undefined));
    // Two pids: the host's and the container's.
    const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${execPid}/status`, 'utf8'))?.[1]?.split(/\s+/);
    assert.equal(nspid?.length, 2);
    assert.equal(readlinkSync(`/proc/${execPid}/ns/pid`), readlinkSync(`/proc/${pid}/ns/pid`));
    for (const line of readFileSync(`/proc/${execPid}/cgroup`, 'utf8').trim().split('\n')) {
      assert.ok(line.endsWith(`:${cgroup}`), `${line} is not in ${cgroup}`);
    }
    const ps = await rt.run(['ps', '--format', 'json', id]);
    assert.deepEqual((JSON.parse(ps.stdout) as number[]).sort((a, b) => a - b), [pid, execPid].sort((a, b) => a - b));
  });

  test('a foreground exec is in the container\'s cgroup too (as its cgroup namespace shows it)', async (t) => {
    const { rt, id } = await running(t);
    const r = await rt.run(['exec', id, 'cat', '/proc/self/cgroup']);
    assert.equal(r.code, 0, r.stderr);
    for (const line of r.stdout.trim().split('\n')) assert.match(line, /^\d+:[^:]*:\/$/);
  });

  test('--process FILE: the process as runtime-spec JSON', async (t) => {
    const { rt, id } = await running(t);
    const file = join(tempDir(t), 'process.json');
    writeFileSync(
      file,
      JSON.stringify({ args: ['sh', '-c', 'echo "$X"; pwd; id -u; id -g'], env: ['X=from-the-file', 'PATH=/bin'], cwd: '/etc', user: { uid: 5, gid: 6 } }),
    );
    const r = await rt.run(['exec', '--process', file, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from-the-file\n/etc\n5\n6\n');
  });

  test('privilege escalation through exec --process without capabilities: the container\'s capabilities, no_new_privs and rlimits', { skip: berthOnly('runc 1.1 takes noNewPrivileges and rlimits of exec --process from the file alone (absent: no_new_privs off, the runtime\'s own rlimits); it inherits only the capabilities') }, async (t) => {
    const { rt, id, pid } = await running(t);
    const init = readFileSync(`/proc/${pid}/status`, 'utf8');
    const file = join(tempDir(t), 'process.json');
    // No capabilities, noNewPrivileges or rlimits: before the fix it ran with the runtime's full set.
    writeFileSync(file, JSON.stringify({ args: ['sh', '-c', 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status; ulimit -n'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } }));
    const r = await rt.run(['exec', '--process', file, id]);
    assert.equal(r.code, 0, r.stderr);
    for (const set of ['CapBnd', 'CapPrm', 'CapEff', 'CapInh', 'CapAmb']) assert.equal(capField(r.stdout, set), capField(init, set), set);
    const sysAdmin = 1n << BigInt(CAPABILITIES['CAP_SYS_ADMIN'] ?? 0);
    assert.equal(capField(r.stdout, 'CapBnd') & sysAdmin, 0n);
    assert.match(r.stdout, /^NoNewPrivs:\s*1$/m);
    assert.match(r.stdout, /\n1024\n$/);
  });

  test('--process FILE is checked like a config\'s process: each problem names its field', { skip: berthOnly('berth-runtime\'s field names and usage status 2; runc 1.1 refuses with status 255 and its own words') }, async (t) => {
    const { rt, id } = await running(t);
    const file = join(tempDir(t), 'process.json');
    const refused = async (process: unknown, message: RegExp): Promise<void> => {
      writeFileSync(file, JSON.stringify(process));
      const r = await rt.run(['exec', '--process', file, id]);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, message);
    };
    await refused({ args: ['true'], user: { uid: 0, gid: 0 } }, /--process ".*process\.json": process\.cwd: is required/);
    await refused({ args: ['true'], cwd: '/', user: { uid: 0, gid: 0 }, capabilities: { bounding: ['CAP_WINGS'] } }, /process\.capabilities\.bounding\[0\]: unknown capability "CAP_WINGS"/);
    await refused({ args: ['true'], cwd: '/', user: { uid: 0, gid: 0 }, apparmorProfile: 'unconfined' }, /process\.apparmorProfile: .*not supported/);
    await refused([], /must be a JSON object/);
  });

  test('the exit status passes through, death by signal as 128+signal', async (t) => {
    const { rt, id } = await running(t);
    assert.equal((await rt.run(['exec', id, 'sh', '-c', 'exit 17'])).code, 17);
    assert.equal((await rt.run(['exec', id, 'sh', '-c', 'kill -9 $$'])).code, 128 + 9);
    const missing = await rt.run(['exec', id, 'no-such-program']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, byRuntime(/executable file "no-such-program" not found in \$PATH/, /no-such-program\\": executable file not found in \$PATH/));
  });

  test('exec into a stopped container fails by name', async (t) => {
    const { rt, id } = await running(t);
    assert.equal((await rt.run(['kill', id, 'KILL'])).code, 0);
    await waitFor('the container to stop', async () => ((await rt.state(id)).status === 'stopped' ? true : undefined));
    const r = await rt.run(['exec', id, 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, byRuntime(new RegExp(`container "${id}": cannot exec in a container that is stopped`), /cannot exec in a stopped container/));
  });

  test('exec right after the container was killed fails by name, not on a namespace link', { skip: berthOnly('runc 1.1 fails opening the dead process\'s namespace links') }, async (t) => {
    const { rt, id } = await running(t);
    // A detached exec lives outside the pid namespace's parent; the killed init waits for it to go.
    assert.equal((await rt.run(['exec', '--detach', id, 'sleep', '999'])).code, 0);
    assert.equal((await rt.run(['kill', id, 'KILL'])).code, 0);
    const r = await rt.run(['exec', id, 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`container "${id}": cannot exec in a container that is stopped`));
  });

  test('exec into a container that does not exist', async (t) => {
    const rt = new RuntimeFixture(t);
    const r = await rt.run(['exec', 'no-such-container', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, byRuntime(/container "no-such-container": does not exist/, /container does not exist/));
  });
});
