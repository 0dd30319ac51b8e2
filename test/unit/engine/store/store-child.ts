/**
 * A second process on the same engine database, for the tests of
 * containers.test.ts: races a create when told "go" on stdin, or writes a
 * record, says so on stdout and then waits to be killed with SIGKILL.
 *
 *   store-child.ts DB create NAME     prints "ready", waits for a line, creates, prints the outcome as JSON
 *   store-child.ts DB begin NAME      begins a create (the `creating` record), prints "reported", waits
 *   store-child.ts DB start ID PID    moves ID to running, prints "reported", waits
 */
import { createInterface } from 'node:readline';
import { isBerthError } from '../../../../src/errors.ts';
import { ContainerStore } from '../../../../src/engine/store/containers.ts';
import { openEngineDatabase } from '../../../../src/engine/store/db.ts';

const [dbPath, verb, arg, arg2] = process.argv.slice(2);
if (dbPath === undefined || verb === undefined || arg === undefined) throw new Error('assertion: usage: DB VERB ARG');
const store = new ContainerStore(openEngineDatabase(dbPath));
const newContainer = (name: string) => ({ name, imageRef: 'busybox:latest', imageId: 'sha256:' + '0'.repeat(64), options: { cmd: ['true'] } });
// Keeps the process alive until the test kills it.
const waitForKill = () => setInterval(() => undefined, 60_000);

if (verb === 'create') {
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  lines.once('line', () => {
    try {
      const record = store.beginCreate(newContainer(arg));
      process.stdout.write(JSON.stringify({ ok: true, id: record.id }) + '\n');
    } catch (err) {
      process.stdout.write(JSON.stringify({ ok: false, code: isBerthError(err) ? err.code : String(err), message: String(err) }) + '\n');
    }
    lines.close();
  });
} else if (verb === 'begin') {
  store.beginCreate(newContainer(arg));
  process.stdout.write('reported\n');
  waitForKill();
} else if (verb === 'start') {
  store.transition(arg, 'running', { pid: Number(arg2) });
  process.stdout.write('reported\n');
  waitForKill();
}
