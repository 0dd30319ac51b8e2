/**
 * berthd against podman's Docker-compatible service, field by field, as
 * root: the same busybox image (saved from berth with `docker save`,
 * loaded into podman), the same containers run by the real docker CLI with
 * the same flags on both (DOCKER_HOST set to each socket, API version 1.41
 * on both, the highest podman 4.3 serves), then `docker inspect`, `docker
 * ps --format '{{json .}}'` and the events stream (`docker events --since
 * --until` around the same actions) walked field by field
 * (test/helpers/json-compare.ts). Values that differ by nature (IDs,
 * times, PIDs, paths, addresses, ports chosen by the daemon) are compared
 * by shape, everything else by value.
 *
 * The test asserts that every difference is on the list below, each with
 * its reason, and that every entry of the list is still needed (README,
 * "Differences from podman's service", says the same in prose: keep them
 * in sync). Where podman departs from dockerd's documented shape the
 * reason says so. podman runs on private roots, its own CNI network
 * directory and bridge (test/helpers/podman-service.ts); everything both
 * made is removed after, also on failure.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { show, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { DOCKER, NO_DOCKER } from '../helpers/docker-cli.ts';
import { runCommand, type CliResult } from '../helpers/daemon.ts';
import { compareJson, describeDifference, explain, type Allowed, type Difference, type Shape } from '../helpers/json-compare.ts';
import { PODMAN, startPodmanService, type PodmanService } from '../helpers/podman-service.ts';

const SKIP = NO_DOCKER || (PODMAN === undefined ? 'no podman on PATH' : false);

let berth: TestDaemon | undefined;
let podman: PodmanService | undefined;

const env = (socket: string, config: string): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: config, DOCKER_CONTEXT: '', DOCKER_API_VERSION: '1.41' });

interface Side {
  name: 'berth' | 'podman';
  docker(args: readonly string[]): Promise<string>;
}

function side(name: Side['name'], socket: string, config: string): Side {
  return {
    name,
    async docker(args) {
      const r: CliResult = await runCommand(DOCKER!, args, { env: env(socket, config), timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`${name}: docker ${args.join(' ')}: ${show(r)}`);
      return r.stdout;
    },
  };
}

let sides: Side[] = [];

before(async () => {
  if (SKIP !== false) return;
  berth = await startDaemon();
  const b = side('berth', berth.socket, berth.scratch);
  const archive = join(berth.scratch, 'busybox.tar');
  await b.docker(['save', '--output', archive, 'busybox']);
  podman = await startPodmanService(archive);
  sides = [b, side('podman', podman.socket, berth.scratch)];
});

after(async () => {
  const problems = (await podman?.stop()) ?? [];
  await berth?.stop();
  assert.deepEqual(problems, [], 'podman cleanup');
});

/** The same flags on both: -d -e -l -p -v (a named volume) --restart --health-cmd. */
const RUN_FLAGS = ['-e', 'FOO=bar', '-l', 'app=cmp', '-p', '127.0.0.1::8080', '--restart', 'on-failure:2'];
// An interval no test waits for: both report "starting", whatever the machine's load.
const HEALTH = ['--health-cmd', 'true', '--health-interval', '1h'];

const HEX64 = /^[0-9a-f]{64}$/;
const HEX12 = /^[0-9a-f]{12}$/;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const ABS = /^\/\S+$/;

/** What differs by nature: compared by shape (see json-compare.ts). */
const SHAPES: Shape[] = [
  { path: 'Id', pattern: HEX64, token: '<id>' },
  { path: 'Created', pattern: TIME, token: '<time>' },
  { path: 'State.StartedAt', pattern: TIME, token: '<time>' },
  { path: 'State.Pid', pattern: /^[1-9]\d*$/, token: '<pid>' },
  { path: '*Path', pattern: ABS, token: '<path>' },
  { path: 'GraphDriver.Data.*', pattern: ABS, token: '<path>' },
  { path: 'Mounts[*].Source', pattern: ABS, token: '<path>' },
  { path: 'Config.Hostname', pattern: HEX12, token: '<hostname>' },
  { path: 'Config.Env.HOSTNAME', pattern: HEX12, token: '<hostname>' },
  { path: 'NetworkSettings.SandboxKey', pattern: ABS, token: '<path>' },
  { path: 'NetworkSettings.Ports.8080/tcp[0].HostPort', pattern: /^[1-9]\d*$/, token: '<port>' },
  { path: 'NetworkSettings.IPAddress', pattern: /^10\.\d+\.\d+\.\d+$/, token: '<ip>' },
  { path: 'NetworkSettings.Networks.*.IPAddress', pattern: /^10\.\d+\.\d+\.\d+$/, token: '<ip>' },
  { path: 'NetworkSettings.Gateway', pattern: /^10\.\d+\.\d+\.1$/, token: '<gateway>' },
  { path: 'NetworkSettings.Networks.*.Gateway', pattern: /^10\.\d+\.\d+\.1$/, token: '<gateway>' },
  { path: 'NetworkSettings.MacAddress', pattern: /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, token: '<mac>' },
  { path: 'NetworkSettings.Networks.*.MacAddress', pattern: /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, token: '<mac>' },
  { path: 'NetworkSettings.EndpointID', pattern: HEX64, token: '<id>' },
  { path: 'NetworkSettings.Networks.*.EndpointID', pattern: HEX64, token: '<id>' },
  { path: 'NetworkSettings.Networks.*.NetworkID', pattern: /^\S+$/, token: '<network>' },
  { path: 'NetworkSettings.SandboxID', pattern: HEX64, token: '<id>' },
  // docker ps --format '{{json .}}'
  { path: 'ID', pattern: HEX12, token: '<id>' },
  { path: 'CreatedAt', pattern: /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/, token: '<time>' },
  { path: 'Ports', pattern: /^127\.0\.0\.1:\d+->8080\/tcp$/, token: '127.0.0.1:<port>->8080/tcp' },
  { path: 'Size', pattern: /^\d+(\.\d+)?[kMG]?B \(virtual \d+(\.\d+)?[kMG]?B\)$/, token: '<size> (virtual <size>)' },
  // events
  { path: '*.id', pattern: HEX64, token: '<id>' },
  { path: '*.Actor.ID', pattern: HEX64, token: '<id>' },
  { path: '*.Actor.Attributes.execID', pattern: HEX64, token: '<id>' },
  { path: '*.time', pattern: /^\d{10}$/, token: '<seconds>' },
  { path: '*.timeNano', pattern: /^\d{19}$/, token: '<nanoseconds>' },
];

/** Names that differ by set-up: the default network's name (berth "bridge", the test's podman network). */
function normalizeInspect(c: Record<string, unknown>, network: string): Record<string, unknown> {
  const config = c['Config'] as Record<string, unknown>;
  // Env as a map: the order of image and user variables is no client's concern.
  config['Env'] = Object.fromEntries((config['Env'] as string[]).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const ns = c['NetworkSettings'] as { Networks: Record<string, unknown> };
  ns.Networks = Object.fromEntries(Object.entries(ns.Networks).map(([k, v]) => [k === network ? '<default>' : k, v]));
  return c;
}

function normalizePs(p: Record<string, unknown>, network: string): Record<string, unknown> {
  const duration = /(Less than a second|About a minute|About an hour|\d+ (seconds?|minutes?|hours?))/;
  for (const k of ['Status', 'RunningFor']) if (typeof p[k] === 'string') p[k] = (p[k]).replace(duration, '<duration>');
  if (p['Networks'] === network) p['Networks'] = '<default>';
  return p;
}

/**
 * The differences that remain, each with its reason (kept in sync with the
 * README's "Differences from podman's service"). "dockerd" is Docker
 * Engine API 1.41's documented shape and dockerd's behaviour.
 */
const INSPECT_ALLOWED: Allowed[] = [
  // Where berth departs from dockerd.
  { path: 'Config.AttachStdout', kind: 'value', reason: 'berth: true whatever create asked (it keeps no Attach* flags); dockerd and podman keep what the client sent (false for -d)' },
  { path: 'Config.AttachStderr', kind: 'value', reason: 'berth: as AttachStdout' },
  { path: 'HostConfig.LogConfig.Type', kind: 'value', reason: 'berth: "k8s-file", the format its log is in (as podman\'s own); podman says "json-file" for its k8s-file log, dockerd "json-file" for its own format' },
  { path: 'HostConfig.LogConfig.Config', kind: 'value', reason: 'berth: the rotation in force (max-size, max-file: its default or --log-opt\'s), as dockerd shows what --log-opt set; podman null' },
  { path: 'Config.StopSignal', kind: 'value', reason: 'berth: the signal a stop sends ("SIGTERM"), podman its number ("15"); dockerd omits the field unless --stop-signal or the image set it' },
  { path: 'Config.StopTimeout', kind: 'value', reason: 'berth: the timeout a stop waits (10), podman 0; dockerd omits the field unless --stop-timeout set it' },
  { path: 'GraphDriver.Data.LowerDir', kind: 'missing', reason: 'berth: the container\'s root is one directory, named in MergedDir; no layer directories to show' },
  { path: 'GraphDriver.Data.UpperDir', kind: 'missing', reason: 'berth: as LowerDir' },
  { path: 'GraphDriver.Data.WorkDir', kind: 'missing', reason: 'berth: as LowerDir' },
  { path: 'HostConfig.Runtime', kind: 'value', reason: 'each names its own runtime: berth "berth-runtime", podman "oci" (dockerd "runc")' },
  { path: 'NetworkSettings.Networks.<default>.DNSNames', kind: 'extra', reason: 'berth shows API 1.44\'s DNSNames at every version; dockerd only from 1.44' },
  // Where podman departs from dockerd (berth has dockerd's).
  { path: 'Config.Image', kind: 'value', reason: 'podman: the name it resolved ("localhost/busybox:latest"); dockerd and berth: what the client asked ("busybox")' },
  { path: 'Config.Env.TERM', kind: 'missing', reason: 'podman adds TERM=xterm to every container; dockerd only with -t' },
  { path: 'Config.Env.container', kind: 'missing', reason: 'podman adds container=podman' },
  { path: 'Config.Env.HOME', kind: 'missing', reason: 'podman adds HOME to Config.Env; dockerd sets it in the process only' },
  { path: 'Config.Healthcheck.Timeout', kind: 'missing', reason: 'podman fills in its defaults; dockerd shows what was asked (the zero values are omitempty)' },
  { path: 'Config.Healthcheck.Retries', kind: 'missing', reason: 'podman: as Timeout' },
  { path: 'HostConfig.Binds[0]', kind: 'value', reason: 'podman appends the mount options it chose ("cmpvol:/data:rw,rprivate,nosuid,nodev,rbind"); dockerd and berth: the bind as sent' },
  { path: 'HostConfig.PortBindings.8080/tcp[0].HostPort', kind: 'value', reason: 'podman: the port it chose; dockerd and berth keep the request ("", any port) and show the chosen one in NetworkSettings.Ports' },
  { path: 'HostConfig.CgroupnsMode', kind: 'value', reason: 'podman: ""; berth: "private" (each container has its cgroup namespace), as dockerd on cgroup v2' },
  { path: 'HostConfig.IpcMode', kind: 'value', reason: 'podman: "shareable"; berth: "private", dockerd\'s default' },
  { path: 'HostConfig.PidMode', kind: 'value', reason: 'podman: "private"; dockerd and berth: "" for the default' },
  { path: 'HostConfig.UTSMode', kind: 'value', reason: 'podman: as PidMode' },
  { path: 'HostConfig.ShmSize', kind: 'value', reason: 'each its own default /dev/shm: podman 65536000, berth 64 MiB as dockerd' },
  { path: 'HostConfig.MemorySwappiness', kind: 'type', reason: 'podman: 0; dockerd and berth: null when not set' },
  { path: 'HostConfig.PidsLimit', kind: 'type', reason: 'podman: 0; dockerd: absent (omitempty), berth null, when not set' },
  { path: 'HostConfig.MaskedPaths', kind: 'value', reason: 'podman: null; dockerd and berth list the paths masked' },
  { path: 'HostConfig.ReadonlyPaths', kind: 'value', reason: 'podman: as MaskedPaths' },
  { path: 'SizeRootFs', kind: 'missing', reason: 'podman always shows 0; dockerd only with size=1 (docker inspect -s)' },
  { path: 'Mounts[0].Mode', kind: 'value', reason: 'podman: ""; dockerd and berth: "z" for a volume' },
  { path: 'Mounts[0].Propagation', kind: 'value', reason: 'podman: "rprivate"; dockerd and berth: "" for a volume' },
  { path: 'NetworkSettings.SandboxID', kind: 'value', reason: 'podman leaves it empty' },
  { path: 'NetworkSettings.EndpointID', kind: 'value', reason: 'podman leaves it empty' },
  { path: 'NetworkSettings.Networks.<default>.EndpointID', kind: 'value', reason: 'podman leaves it empty' },
  { path: 'NetworkSettings.Networks.<default>.Aliases', kind: 'value', reason: 'podman lists the short ID on its default network; dockerd and berth: none on the default bridge' },
  // The test's set-up.
  { path: 'HostConfig.Ulimits', kind: 'value', reason: 'set-up: the test\'s containers.conf gives podman default ulimits (this machine cannot grant its 1048576)' },
];
const PS_ALLOWED: Allowed[] = [
  { path: 'Image', kind: 'value', reason: 'podman: the name it resolved; dockerd and berth: what the client asked' },
  { path: 'Status', kind: 'value', reason: 'podman leaves the health out ("Up 2 seconds"); dockerd and berth: "Up 2 seconds (health: starting)"' },
];
const EVENTS_ALLOWED: Allowed[] = [
  // podman's own actions, not Docker's (dockerd: create, start, exec_create, exec_start, exec_die, kill, die, stop, destroy).
  { path: 'container:init', kind: 'missing', reason: 'podman-only action (not one of Docker\'s)' },
  { path: 'container:cleanup', kind: 'missing', reason: 'podman-only action' },
  { path: 'container:exec', kind: 'missing', reason: 'podman\'s name; Docker\'s are exec_create and exec_start (berth has both)' },
  { path: 'container:exec_died', kind: 'missing', reason: 'podman\'s name; Docker\'s is exec_die (berth has it)' },
  { path: 'container:remove', kind: 'missing', reason: 'podman\'s name; Docker\'s is destroy (berth has it)' },
  { path: 'volume:remove', kind: 'missing', reason: 'podman\'s name; Docker\'s is destroy (berth has it)' },
  { path: 'container:exec_create', kind: 'extra', reason: 'Docker\'s action; podman says exec' },
  { path: 'container:exec_start', kind: 'extra', reason: 'Docker\'s action; podman says exec' },
  { path: 'container:exec_die', kind: 'extra', reason: 'Docker\'s action; podman says exec_died' },
  { path: 'container:destroy', kind: 'extra', reason: 'Docker\'s action; podman says remove' },
  { path: 'volume:destroy', kind: 'extra', reason: 'Docker\'s action; podman says remove' },
  { path: 'container:stop', kind: 'extra', reason: 'dockerd and berth report docker stop; podman does not, but the difference was missing in one run of three here (not yet explained)', sometimes: true },
  // podman's attributes and values.
  { path: 'container:*.Actor.Attributes.containerExitCode', kind: 'missing', reason: 'podman-only attribute (dockerd has exitCode on die, as berth)' },
  { path: 'container:*.Actor.Attributes.podId', kind: 'missing', reason: 'podman-only attribute' },
  { path: 'container:*.from', kind: 'value', reason: 'podman: the image name it resolved; dockerd and berth: as asked' },
  { path: 'container:*.Actor.Attributes.image', kind: 'value', reason: 'podman: as from' },
  { path: 'container:kill.Actor.Attributes.signal', kind: 'extra', reason: 'dockerd names the signal of a kill; podman does not' },
  { path: 'volume:create.status', kind: 'missing', reason: 'podman adds the legacy status to volume events; dockerd only to container and image events' },
  { path: 'volume:create.Actor.ID', kind: 'value', reason: 'podman: ""; dockerd and berth: the volume\'s name' },
  { path: 'volume:create.Actor.Attributes.*', kind: 'missing', reason: 'podman: containerExitCode, image, name, podId on a volume event; dockerd: driver' },
  { path: 'volume:create.Actor.Attributes.driver', kind: 'extra', reason: 'dockerd names the volume\'s driver; podman does not' },
];

function assertExplained(checks: [what: string, found: Difference[], allowed: Allowed[]][]): void {
  const report: Record<string, { unexplained: string[]; unused: string[] }> = {};
  for (const [what, found, allowed] of checks) {
    const { unexplained, unused } = explain(found, allowed);
    report[what] = { unexplained: unexplained.map(describeDifference), unused: unused.map((a) => `${a.kind} ${a.path}: ${a.reason}`) };
  }
  const clean = Object.fromEntries(checks.map(([what]) => [what, { unexplained: [], unused: [] }]));
  assert.deepEqual(report, clean, "every difference from podman's service must be on the list, and every entry of the list still needed");
}

test('docker inspect and docker ps of the same container: berth has every field podman has, and differs only where listed', { skip: SKIP, timeout: 240_000 }, async () => {
  const inspected: Record<string, unknown>[] = [];
  const listed: Record<string, unknown>[] = [];
  for (const s of sides) {
    await s.docker(['run', '-d', '--name', 'cmp-full', ...RUN_FLAGS, '-v', 'cmpvol:/data', ...HEALTH, 'busybox', 'sleep', '600']);
    const network = s.name === 'berth' ? 'bridge' : podman!.network;
    const [c] = JSON.parse(await s.docker(['inspect', 'cmp-full'])) as Record<string, unknown>[];
    // The volume's Source is where the host sees what the container writes to it.
    await s.docker(['exec', 'cmp-full', 'sh', '-c', 'echo written-inside > /data/f']);
    const [volume] = c!['Mounts'] as { Source: string }[];
    assert.equal(readFileSync(join(volume!.Source, 'f'), 'utf8'), 'written-inside\n', `${s.name}: Mounts[0].Source ${volume!.Source}`);
    inspected.push(normalizeInspect(c!, network));
    const lines = (await s.docker(['ps', '--all', '--filter', 'name=cmp-full', '--format', '{{json .}}'])).trim().split('\n');
    assert.equal(lines.length, 1, `${s.name}: ${lines.join('\n')}`);
    listed.push(normalizePs(JSON.parse(lines[0]!) as Record<string, unknown>, network));
    await s.docker(['rm', '--force', '--volumes', 'cmp-full']);
    await s.docker(['volume', 'rm', 'cmpvol']);
  }
  // dockerd's State.String() shows a health check's state ("health: starting" while it has not run).
  assert.match(String(listed[0]!['Status']), /^Up <duration> \(health: starting\)$/);
  assertExplained([
    ['docker inspect', compareJson(inspected[1], inspected[0], SHAPES), INSPECT_ALLOWED],
    ['docker ps', compareJson(listed[1], listed[0], SHAPES), PS_ALLOWED],
  ]);
});

/** The actions both daemons see, in order; each event's stream is read with --since/--until around them. */
async function lifeOf(s: Side): Promise<Record<string, unknown>[]> {
  const t0 = Date.now() / 1000;
  await s.docker(['volume', 'create', 'cmpvol-ev']);
  await s.docker(['run', '-d', '--name', 'cmp-ev', ...RUN_FLAGS, '-v', 'cmpvol-ev:/data', 'busybox', 'sleep', '600']);
  await s.docker(['exec', 'cmp-ev', 'true']);
  await s.docker(['stop', '--time', '1', 'cmp-ev']);
  await s.docker(['start', 'cmp-ev']);
  await s.docker(['kill', 'cmp-ev']);
  await s.docker(['rm', 'cmp-ev']);
  await s.docker(['volume', 'rm', 'cmpvol-ev']);
  const t1 = Date.now() / 1000 + 0.001;
  // podman 4.3 ends an event stream whose --until has passed after its first event: it gets an --until just ahead, and what came after t1 is dropped.
  const until = s.name === 'podman' ? Date.now() / 1000 + 2 : t1;
  const out = await s.docker(['events', '--since', t0.toFixed(3), '--until', until.toFixed(3), '--format', '{{json .}}']);
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => (e['timeNano'] as number) / 1e9 <= t1);
}

/** Events by `Type:Action` (exec_create/exec_start carry the command in dockerd's Action: cut), the first of each kind. */
function byAction(events: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of events) {
    const key = `${String(e['Type'])}:${String(e['Action']).split(':')[0]}`;
    if (!(key in out)) out[key] = e;
  }
  return out;
}

test('docker events around the same actions: the same kinds of event, each with the same fields, but where listed', { skip: SKIP, timeout: 240_000 }, async () => {
  const seen: Record<string, unknown>[][] = [];
  for (const s of sides) seen.push(await lifeOf(s));
  const [b, p] = seen.map(byAction);
  assert.ok(Object.keys(b!).length > 0, 'berth reported no events');
  // podman has no exec_start or exec_die to compare with: dockerd puts the container's attributes on every container event.
  for (const e of seen[0]!.filter((x) => x['Type'] === 'container')) {
    const attributes = (e['Actor'] as { Attributes: Record<string, string> }).Attributes;
    assert.deepEqual([attributes['name'], attributes['image'], attributes['app']], ['cmp-ev', 'busybox', 'cmp'], JSON.stringify(e));
  }
  assertExplained([['docker events', compareJson(p, b, SHAPES), EVENTS_ALLOWED]]);
});
