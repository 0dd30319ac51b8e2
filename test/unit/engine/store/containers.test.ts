import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { ContainerStore, type NewContainer } from '../../../../src/engine/store/containers.ts';
import { openEngineDatabase, statementCache } from '../../../../src/engine/store/db.ts';
import { onCleanup, tempDir } from '../../../helpers/cleanup.ts';

const CHILD = join(import.meta.dirname, 'store-child.ts');
const IMAGE_ID = 'sha256:' + 'a'.repeat(64);

function openStore(t: TestContext, path = join(tempDir(t), 'berth.db')): ContainerStore {
  const db = openEngineDatabase(path);
  onCleanup(t, () => db.close());
  return new ContainerStore(db);
}

const input = (name: string, extra: Partial<NewContainer> = {}): NewContainer => ({
  name,
  imageRef: 'busybox:latest',
  imageId: IMAGE_ID,
  options: { cmd: ['sh', '-c', 'echo hi'], env: ['A=1'] },
  ...extra,
});

function created(store: ContainerStore, name: string, extra: Partial<NewContainer> = {}): string {
  const { id } = store.beginCreate(input(name, extra));
  store.finishCreate(id);
  return id;
}

function assertCode(fn: () => unknown, code: string, messagePart: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, code), `expected ${code}, got ${String(err)}`);
    assert.ok(err.message.includes(messagePart), `message ${JSON.stringify(err.message)} should name ${messagePart}`);
    return true;
  });
}

interface Child {
  proc: ChildProcess;
  lines: Interface;
  next(): Promise<string>;
}

/** A child process on the same database (store-child.ts), killed after the test. */
function child(t: TestContext, args: string[]): Child {
  const proc = spawn(process.execPath, [CHILD, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  onCleanup(t, async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await once(proc, 'exit');
    }
  });
  const lines = createInterface({ input: proc.stdout });
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else queue.push(line);
  });
  const next = (): Promise<string> => {
    const line = queue.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      waiting.push(resolve);
      proc.once('exit', (code, signal) => reject(new Error(`child exited (${String(code ?? signal)}) before writing a line`)));
    });
  };
  return { proc, lines, next };
}

async function killHard(c: Child): Promise<void> {
  c.proc.kill('SIGKILL');
  const [, signal] = (await once(c.proc, 'exit')) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL');
}

test('a container goes creating → created → running → paused → running → exited → removing → deleted', (t) => {
  const store = openStore(t);
  const begun = store.beginCreate(input('web', { labels: { tier: 'front' }, restartPolicy: { name: 'on-failure', maximumRetryCount: 3 } }));
  assert.equal(begun.state, 'creating');
  assert.match(begun.id, /^[0-9a-f]{64}$/);
  assert.deepEqual(begun.options, { cmd: ['sh', '-c', 'echo hi'], env: ['A=1'] });
  assert.deepEqual(begun.labels, { tier: 'front' });
  assert.deepEqual(begun.restartPolicy, { name: 'on-failure', maximumRetryCount: 3 });
  assert.equal(store.finishCreate(begun.id).state, 'created');

  const running = store.transition(begun.id, 'running', { pid: 4242 });
  assert.equal(running.pid, 4242);
  assert.ok(running.startedAt !== null);
  assert.equal(running.exitCode, null);
  assert.equal(store.transition(begun.id, 'paused').state, 'paused');
  const resumed = store.transition(begun.id, 'running');
  assert.equal(resumed.pid, 4242, 'unpausing keeps the process');
  assert.equal(resumed.startedAt, running.startedAt);

  const exited = store.transition(begun.id, 'exited', { exitCode: 137, stoppedByUser: true, restartCount: 2 });
  assert.deepEqual([exited.state, exited.pid, exited.exitCode, exited.stoppedByUser, exited.restartCount], ['exited', null, 137, true, 2]);
  assert.ok(exited.finishedAt !== null);

  const again = store.transition(begun.id, 'running', { pid: 5000, stoppedByUser: false });
  assert.deepEqual([again.pid, again.exitCode, again.finishedAt, again.stoppedByUser, again.restartCount], [5000, null, null, false, 2]);
  store.transition(begun.id, 'exited', { exitCode: 0 });
  store.transition(begun.id, 'removing');
  store.remove(begun.id);
  assert.equal(store.get(begun.id), undefined);
  assertCode(() => store.find('web'), 'container_not_found', '"web"');
  created(store, 'web'); // the name is free again
});

test('illegal moves are refused with container_state_conflict naming the container and both states, and change nothing', (t) => {
  const store = openStore(t);
  const id = created(store, 'db');
  assertCode(() => store.transition(id, 'paused'), 'container_state_conflict', 'container "db": cannot go from created to paused');
  assertCode(() => store.transition(id, 'created'), 'container_state_conflict', 'from created to created');
  assertCode(() => store.remove(id), 'container_state_conflict', 'cannot be deleted while created');
  store.transition(id, 'running', { pid: 10 });
  assertCode(() => store.transition(id, 'removing'), 'container_state_conflict', 'from running to removing');
  assertCode(() => store.transition(id, 'created'), 'container_state_conflict', 'from running to created');
  assert.equal(store.get(id)?.state, 'running');
  store.transition(id, 'dead', { error: 'monitor lost' });
  assertCode(() => store.transition(id, 'running', { pid: 11 }), 'container_state_conflict', 'from dead to running');
  const dead = store.get(id);
  assert.deepEqual([dead?.state, dead?.pid, dead?.error], ['dead', null, 'monitor lost']);

  const half = store.beginCreate(input('half'));
  assertCode(() => store.transition(half.id, 'running', { pid: 1 }), 'container_state_conflict', 'from creating to running');
});

test('a move that needs data refuses to go without it', (t) => {
  const store = openStore(t);
  const id = created(store, 'app');
  assertCode(() => store.transition(id, 'running'), 'invalid_container_pid', 'container "app"');
  assertCode(() => store.transition(id, 'running', { pid: -1 }), 'invalid_container_pid', '-1');
  store.transition(id, 'running', { pid: 7 });
  assertCode(() => store.transition(id, 'exited'), 'invalid_exit_code', 'container "app"');
  assert.equal(store.get(id)?.state, 'running');
});

test('a name is held by one container; a second create of it gets container_name_in_use naming the name and the holder', (t) => {
  const store = openStore(t);
  const id = created(store, 'web');
  assertCode(() => store.beginCreate(input('web')), 'container_name_in_use', `container name "web": already in use by container ${id.slice(0, 12)}`);
  assertCode(() => store.beginCreate(input('/web')), 'container_name_in_use', '"web"');
  // A half-made record holds its name too: the crash cleanup frees it, not a new create.
  store.beginCreate(input('pending'));
  assertCode(() => store.beginCreate(input('pending')), 'container_name_in_use', '"pending"');
  assertCode(() => store.beginCreate(input('other', { id })), 'container_exists', id);
  assert.equal(store.list().length, 1);
});

test('rename moves the name atomically: the old name is free, a taken one is refused naming it', (t) => {
  const store = openStore(t);
  const web = created(store, 'web');
  const db = created(store, 'db');
  assert.equal(store.rename(web, '/front').name, 'front');
  assert.equal(store.find('front').id, web);
  assertCode(() => store.find('web'), 'container_not_found', '"web"');
  assertCode(() => store.rename(db, 'front'), 'container_name_in_use', `container name "front": already in use by container ${web.slice(0, 12)}`);
  assertCode(() => store.rename(db, 'a/b'), 'invalid_container_name', '"a/b"');
  assert.equal(store.rename(db, 'db').name, 'db');
  created(store, 'web');
  const half = store.beginCreate(input('half'));
  assertCode(() => store.rename(half.id, 'whole'), 'container_state_conflict', 'cannot be renamed while creating');
  assertCode(() => store.rename('f'.repeat(64), 'x1'), 'container_not_found', 'f'.repeat(64));
});

test('bad names, IDs and restart policies are refused naming the input, writing nothing', (t) => {
  const store = openStore(t);
  for (const name of ['', 'a', '-web', 'we/b', '..', 'a\0b', 'x'.repeat(256)]) {
    assertCode(() => store.beginCreate(input(name)), 'invalid_container_name', JSON.stringify(name));
  }
  assertCode(() => store.beginCreate(input('ok', { id: 'ABC' })), 'invalid_id', '"ABC"');
  assertCode(
    () => store.beginCreate(input('ok', { restartPolicy: { name: 'always', maximumRetryCount: 3 } })),
    'invalid_restart_policy',
    '"always"',
  );
  assertCode(() => store.beginCreate(input('ok', { restartPolicy: { name: 'sometimes' as 'no', maximumRetryCount: 0 } })), 'invalid_restart_policy', '"sometimes"');
  assertCode(() => store.beginCreate(input('ok', { options: undefined })), 'invalid_container_options', '"ok"');
  assert.deepEqual([store.list(), store.listIncomplete()], [[], []]);
});

test('find resolves a full ID, a name (with or without "/") and a unique ID prefix, as docker does', (t) => {
  const store = openStore(t);
  const a = created(store, 'alpha', { id: 'abc1' + '0'.repeat(60) });
  const b = created(store, 'beta', { id: 'abc2' + '0'.repeat(60) });
  // A container named like another's ID prefix: the name wins, as in docker.
  const c = created(store, 'abc2', { id: 'f'.repeat(64) });
  assert.equal(store.find(a).id, a);
  assert.equal(store.find('alpha').id, a);
  assert.equal(store.find('/beta').id, b);
  assert.equal(store.find('abc1').id, a);
  assert.equal(store.find('abc2').id, c);
  assert.equal(store.find('abc20').id, b);
  assert.equal(store.find('ff').id, c);
  assertCode(() => store.find('abc'), 'ambiguous_container_id', 'container ID prefix "abc"');
  assertCode(() => store.find('abd'), 'container_not_found', 'container "abd": not found');
  assertCode(() => store.find('ABC1'), 'container_not_found', '"ABC1"');
  // Half-made records are not found by users.
  const half = store.beginCreate(input('half', { id: 'd'.repeat(64) }));
  assertCode(() => store.find('half'), 'container_not_found', '"half"');
  assertCode(() => store.find(half.id), 'container_not_found', half.id);
  assertCode(() => store.find('ddd'), 'container_not_found', '"ddd"');
  assert.equal(store.get(half.id)?.state, 'creating');
});

test('list shows what users see, newest first; listIncomplete shows what a crash left half made', (t) => {
  const store = openStore(t);
  const first = created(store, 'first');
  const second = created(store, 'second');
  const half = store.beginCreate(input('half'));
  assert.deepEqual(
    store.list().map((r) => r.id),
    [second, first],
  );
  assert.deepEqual(
    store.listIncomplete().map((r) => r.name),
    ['half'],
  );
  store.remove(half.id);
  assert.deepEqual(store.listIncomplete(), []);
});

test('name uniqueness across processes: of two processes creating one name at once, exactly one wins', async (t) => {
  const path = join(tempDir(t), 'berth.db');
  openStore(t, path); // the schema exists before the race, so the race is about the name
  for (let round = 0; round < 5; round++) {
    const name = `race${round}`;
    const racers = [child(t, [path, 'create', name]), child(t, [path, 'create', name])];
    for (const r of racers) assert.equal(await r.next(), 'ready');
    for (const r of racers) r.proc.stdin!.write('go\n');
    const outcomes = (await Promise.all(racers.map((r) => r.next()))).map((line) => JSON.parse(line) as { ok: boolean; code?: string; message?: string; id?: string });
    const winners = outcomes.filter((o) => o.ok);
    const losers = outcomes.filter((o) => !o.ok);
    assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
    assert.equal(losers[0]?.code, 'container_name_in_use');
    assert.ok(losers[0]?.message?.includes(`"${name}"`));
    const store = openStore(t, path);
    assert.deepEqual(
      store.listIncomplete().filter((r) => r.name === name).map((r) => r.id),
      [winners[0]?.id],
    );
  }
});

test('durability: a move reported by a process killed with SIGKILL right after is there on reopen', async (t) => {
  const path = join(tempDir(t), 'berth.db');
  const store = openStore(t, path);
  const id = created(store, 'durable');
  const writer = child(t, [path, 'start', id, '31337']);
  assert.equal(await writer.next(), 'reported');
  await killHard(writer);
  const reopened = openStore(t, path);
  const record = reopened.find('durable');
  assert.deepEqual([record.state, record.pid], ['running', 31337]);
});

test('a process killed in the middle of a create leaves its record in listIncomplete, holding the name until cleaned', async (t) => {
  const path = join(tempDir(t), 'berth.db');
  openStore(t, path);
  const creator = child(t, [path, 'begin', 'crashy']);
  assert.equal(await creator.next(), 'reported');
  await killHard(creator);
  const store = openStore(t, path);
  const incomplete = store.listIncomplete();
  assert.deepEqual(
    incomplete.map((r) => [r.name, r.state]),
    [['crashy', 'creating']],
  );
  assertCode(() => store.beginCreate(input('crashy')), 'container_name_in_use', '"crashy"');
  store.remove(incomplete[0]!.id);
  created(store, 'crashy');
});

test('finishCreate with the settled options writes them and `created` together; refused, it writes neither', (t) => {
  const path = join(tempDir(t), 'berth.db');
  const store = openStore(t, path);
  const { id } = store.beginCreate(input('settled'));
  const settled = { cmd: ['true'], volumes: { '/data': 'vol1' } };
  const done = store.finishCreate(id, settled);
  assert.equal(done.state, 'created');
  assert.deepEqual(done.options, settled);
  // As another connection reads the file: committed.
  const other = openStore(t, path);
  assert.deepEqual(other.get(id)?.options, settled);
  assert.equal(other.get(id)?.state, 'created');
  // created → created is no move: the options stay as they were.
  assertCode(() => store.finishCreate(id, { cmd: ['changed'] }), 'container_state_conflict', 'settled');
  assert.deepEqual(other.get(id)?.options, settled);
});

test('statements are prepared once per connection and reused', (t) => {
  const db = openEngineDatabase(join(tempDir(t), 'berth.db'));
  onCleanup(t, () => db.close());
  const sql = statementCache(db);
  const a = sql('SELECT count(*) AS n FROM engine_containers');
  assert.equal(sql('SELECT count(*) AS n FROM engine_containers'), a);
  assert.notEqual(sql('SELECT count(*) AS m FROM engine_containers'), a);
  assert.equal(a.get()?.['n'], 0);
  assert.equal(a.get()?.['n'], 0, 'a reused statement runs again from the start');
});

test('beginCreate commits without its own fsync and leaves the connection synchronous = FULL, also when it is refused', (t) => {
  const store = openStore(t);
  const synchronous = (): unknown => store.db.prepare('PRAGMA synchronous').get()?.['synchronous'];
  const FULL = 2;
  assert.equal(synchronous(), FULL);
  const { id } = store.beginCreate(input('nosync'));
  assert.equal(synchronous(), FULL);
  assertCode(() => store.beginCreate(input('nosync')), 'container_name_in_use', 'nosync');
  assert.equal(synchronous(), FULL);
  // What the next (FULL) commit makes durable with it: the record is there and goes on.
  assert.equal(store.finishCreate(id).state, 'created');
});

test('countByState counts every state, the half made (creating) included, which list() leaves out', (t) => {
  const store = openStore(t);
  assert.deepEqual([...store.countByState()], []);
  store.beginCreate(input('half'));
  const a = created(store, 'one');
  created(store, 'two');
  store.transition(a, 'running', { pid: 4242 });
  assert.deepEqual(new Map([...store.countByState()].sort()), new Map([['created', 1], ['creating', 1], ['running', 1]]));
  assert.equal(store.list().length, 2);
});
