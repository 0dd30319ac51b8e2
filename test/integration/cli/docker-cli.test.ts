/**
 * The real docker CLI against berthd's socket (DOCKER_HOST=unix://SOCKET),
 * as root: ps, inspect, logs, stop and rm of a container berth made are
 * Docker Engine API routes and work as they do against dockerd (the
 * docker CLI's own `run` and the rest: test/compat/docker-cli-containers).
 * scripts/install.sh does not install the docker CLI: without one on PATH
 * the test is skipped, saying so.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { show, startDaemon, type CliResult, type TestDaemon } from '../../helpers/daemon.ts';
import { docker as dockerWith, NO_DOCKER } from '../../helpers/docker-cli.ts';

let d: TestDaemon;
before(async () => {
  if (NO_DOCKER === false) d = await startDaemon();
});
after(async () => {
  await d?.stop();
});

const docker = (args: string[]): Promise<CliResult> => dockerWith(d, args, { timeoutMs: 30_000 });

test('docker ps, inspect, logs, stop and rm work against berthd', { skip: NO_DOCKER }, async () => {
  const id = (await d.ok(['run', '-d', '--name', 'from-berth', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2; trap "echo got-term; exit 4" TERM; while :; do sleep 0.1; done'])).trim();

  const ps = await docker(['ps', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.State}}']);
  assert.equal(ps.code, 0, show(ps));
  assert.equal(ps.stdout, `${id} from-berth busybox running\n`);

  const inspect = await docker(['inspect', '-f', '{{.Name}} {{.State.Status}} {{.Config.Image}}', 'from-berth']);
  assert.equal(inspect.stdout, '/from-berth running busybox\n', show(inspect));

  const logs = await docker(['logs', 'from-berth']);
  assert.equal(logs.code, 0, show(logs));
  assert.equal(logs.stdout, 'to-out\n');
  assert.equal(logs.stderr, 'to-err\n');

  const stop = await docker(['stop', 'from-berth']);
  assert.equal(stop.stdout, 'from-berth\n', show(stop));
  assert.equal((await d.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id])).trim(), 'exited 4');
  assert.match(await d.ok(['logs', id]), /got-term/);
  const all = await docker(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
  assert.match(all.stdout, /^from-berth Exited \(4\) /, show(all));

  const rm = await docker(['rm', 'from-berth']);
  assert.equal(rm.stdout, 'from-berth\n', show(rm));
  assert.equal(await d.ok(['ps', '-a', '-q']), '');
  const missing = await docker(['inspect', 'from-berth']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /from-berth/);
});
