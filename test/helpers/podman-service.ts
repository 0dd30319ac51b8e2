/**
 * podman's Docker-compatible service (`podman system service`) on a
 * temporary socket, everything of it private: storage, run root and tmpdir
 * (`--root`, `--runroot`, `--tmpdir`), its containers.conf and CNI
 * network directory (a bridge of its own on a /24 no route uses, IPAM state
 * in the private directory), so the host's podman state is untouched. The
 * busybox image comes from a docker-archive (what `docker save` of berth's
 * busybox wrote), so both daemons run the same image with the same ID.
 * `stop()` removes its containers, volumes and images, stops the service,
 * unmounts what storage left, deletes the bridge and the directory, also
 * after a failure; each step runs even when one before it failed.
 *
 * For the compat comparison test and bench/docker-api.ts. podman's default
 * rlimits (1048576) cannot be granted on a machine without
 * CAP_SYS_RESOURCE: lowered here as test/compat/podman-runtime.test.ts does.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ApiClient } from '../../src/api/client.ts';
import { delay } from '../../src/delay.ts';
import { processesUsing } from './processes.ts';

export interface PodmanService {
  dir: string;
  socket: string;
  /** The image the way podman names it (docker-archive loads are tagged under localhost/). */
  image: string;
  /** The default network's name and bridge. */
  network: string;
  bridge: string;
  /** Runs the podman CLI on the private roots; throws with its stderr unless it exits 0. */
  podman(args: readonly string[], timeoutMs?: number): string;
  stop(): Promise<string[]>;
}

export const PODMAN = ((): string | undefined => {
  const r = spawnSync('sh', ['-c', 'command -v podman'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
})();

/** A /24 under 10.216.0.0/16 that no route of the host uses. */
function freeSubnet(): string {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (;;) {
    const x = 1 + Math.floor(Math.random() * 250);
    if (!routes.includes(`10.216.${x}.`)) return `10.216.${x}`;
  }
}

/** Starts the service with the one image of `archive` (a docker-archive) loaded. */
export async function startPodmanService(archive: string): Promise<PodmanService> {
  // Short: the socket path must fit a sockaddr_un's 108 bytes.
  const dir = mkdtempSync('/tmp/pd-');
  const socket = join(dir, 'podman.sock');
  const network = `cmp${randomBytes(3).toString('hex')}`;
  const bridge = `pd${randomBytes(4).toString('hex')}`;
  const net = freeSubnet();
  const conf = join(dir, 'containers.conf');
  mkdirSync(join(dir, 'net.d'));
  mkdirSync(join(dir, 'tmp'));
  writeFileSync(
    conf,
    [
      '[containers]',
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      '[network]',
      'network_backend = "cni"',
      `network_config_dir = "${join(dir, 'net.d')}"`,
      `default_network = "${network}"`,
      'cni_plugin_dirs = ["/usr/lib/cni"]',
      '',
    ].join('\n'),
  );
  const ipam = { type: 'host-local', dataDir: join(dir, 'ipam'), routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: `${net}.0/24`, gateway: `${net}.1` }]] };
  const plugins = [
    { type: 'bridge', bridge, isGateway: true, ipMasq: true, hairpinMode: true, ipam },
    { type: 'portmap', capabilities: { portMappings: true } },
    { type: 'firewall' },
    { type: 'tuning' },
  ];
  writeFileSync(join(dir, 'net.d', `${network}.conflist`), JSON.stringify({ cniVersion: '0.4.0', name: network, plugins }));
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const globals = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp')];
  const podman = (args: readonly string[], timeoutMs = 120_000): string => {
    const r = spawnSync(PODMAN ?? 'podman', [...globals, ...args], { env, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) throw new Error(`podman ${args.join(' ')}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
    return r.stdout;
  };

  let child: ChildProcess | undefined;
  const logPath = join(dir, 'service.log');
  const stop = async (): Promise<string[]> => {
    const problems: string[] = [];
    const step = async (what: string, fn: () => unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    await step('podman rm', () => podman(['rm', '--all', '--force', '--time', '0']));
    await step('podman volume prune', () => podman(['volume', 'prune', '--force']));
    await step('podman rmi', () => podman(['rmi', '--all', '--force']));
    const c = child;
    if (c !== undefined && c.exitCode === null && c.signalCode === null) {
      await step('stop the service', async () => {
        const exited = once(c, 'exit');
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      });
    }
    // conmon of an exec stays up to 300 s after the exec (podman's --exit-delay), past its container's removal.
    await step('conmon processes', async () => {
      const left = processesUsing([`${dir}/`]).map((p) => p.pid);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      const deadline = Date.now() + 10_000;
      while (processesUsing([`${dir}/`]).length > 0) {
        if (Date.now() > deadline) throw new Error(`still running: ${processesUsing([`${dir}/`]).map((p) => p.pid).join(', ')}`);
        await delay(25);
      }
    });
    await step('unmount storage', () => {
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[4] ?? '')
        .filter((p) => p.startsWith(`${dir}/`))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    });
    await step('bridge', () => {
      if (spawnSync('ip', ['link', 'show', bridge], { stdio: 'ignore' }).status === 0) execFileSync('ip', ['link', 'del', bridge]);
    });
    await step('remove the directory', () => rmSync(dir, { recursive: true, force: true }));
    return problems;
  };

  try {
    podman(['load', '--input', archive]);
    const loaded = podman(['images', '--format', '{{.Repository}}:{{.Tag}}']).trim().split('\n');
    if (loaded.length !== 1 || loaded[0] === undefined) throw new Error(`podman load: expected one image, found ${JSON.stringify(loaded)}`);
    const image = loaded[0];
    const out = openSync(logPath, 'a');
    child = spawn(PODMAN ?? 'podman', [...globals, 'system', 'service', '--time=0', `unix://${socket}`], { env, stdio: ['ignore', out, out] });
    closeSync(out);
    const started = child;
    const deadline = Date.now() + 30_000;
    const client = new ApiClient(socket);
    while (!(await client.ping(2_000))) {
      if (started.exitCode !== null) throw new Error(`podman system service exited with ${started.exitCode}: ${readFileSync(logPath, 'utf8')}`);
      if (Date.now() > deadline) throw new Error('timed out waiting for podman system service to answer on its socket');
      await delay(25);
    }
    return { dir, socket, image, network, bridge, podman, stop };
  } catch (err) {
    const problems = await stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}${problems.length ? ` (cleanup: ${problems.join('; ')})` : ''}`, { cause: err });
  }
}
