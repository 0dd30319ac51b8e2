/**
 * Docker's ContainerCreate body to berth's CreateRequest
 * (src/api/docker/create.ts), from bodies the docker CLI 28 sent
 * (test/fixtures/docker-api/*.json, captured on the wire): the zeros it
 * sends for "not asked" pass, every field it fills lands in RunOptions,
 * and what berth does not do is refused naming the field.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dockerCreateFlags, dockerCreateRequest } from '../../../src/api/docker/create.ts';
import { BerthError } from '../../../src/errors.ts';
import { httpStatusFor } from '../../../src/error-status.ts';

type Body = Record<string, unknown> & { HostConfig: Record<string, unknown>; NetworkingConfig: { EndpointsConfig: Record<string, unknown> } };

function fixture(name: string): Body {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/docker-api', `${name}.json`), 'utf8')) as Body;
}

/** The CLI's `run --rm busybox echo hi` on a network that needs no network layer, changed by `patch`. */
function body(patch: (b: Body) => void = () => {}): Body {
  const b = fixture('create-run-rm');
  b.HostConfig.NetworkMode = 'none';
  b.NetworkingConfig.EndpointsConfig = { none: b.NetworkingConfig.EndpointsConfig['default'] };
  patch(b);
  return b;
}

function refused(b: unknown, pattern: RegExp, status = 400): void {
  assert.throws(
    () => dockerCreateRequest(b),
    (err: unknown) => {
      assert.ok(err instanceof BerthError, String(err));
      assert.match(err.message, pattern);
      assert.equal(httpStatusFor(err), status, err.message);
      return true;
    },
  );
}

test('the docker CLI\'s run --rm body: its zeros and empties pass, Cmd and AutoRemove land', () => {
  const r = dockerCreateRequest(body(), { name: '/web' });
  assert.equal(r.image, 'busybox');
  assert.deepEqual(r.args, ['echo', 'hi']);
  assert.equal(r.options.name, 'web');
  assert.equal(r.options.autoRemove, true);
  assert.equal(r.options.network, 'none');
  assert.equal(r.options.pull, 'never');
  assert.deepEqual(r.options.env, []);
  assert.deepEqual(r.options.mounts, []);
  assert.deepEqual(r.options.resources, {});
  assert.equal(r.options.health, undefined);
  assert.equal(r.tty, false);
});

test('NetworkMode "default" (what the CLI sends without --network) is docker\'s default network, bridge', () => {
  const d = dockerCreateFlags(fixture('create-run-rm'));
  assert.equal(d.flags.network, 'default');
  assert.equal(dockerCreateRequest(fixture('create-run-rm')).options.network, 'bridge');
  assert.equal(dockerCreateRequest({ Image: 'busybox', HostConfig: { NetworkMode: '' } }).options.network, 'bridge');
});

test('run -it with -e -v -w -u --label --restart --health-* --memory --cpus --read-only --cap-* --init: each lands in RunOptions', () => {
  const b = fixture('create-run-it-flags');
  delete b.HostConfig['Devices'];
  b.HostConfig.Privileged = false;
  b.HostConfig.PublishAllPorts = false;
  b.HostConfig.NetworkMode = 'host';
  b.NetworkingConfig.EndpointsConfig = {};
  b.HostConfig['Binds'] = ['/tmp:/t:ro'];
  const r = dockerCreateRequest(b, { name: 'xy' });
  assert.equal(r.tty, true);
  assert.equal(r.openStdin, true);
  assert.equal(r.stdinOnce, true);
  assert.deepEqual(r.options.env, ['A=b']);
  assert.deepEqual(r.options.mounts, [{ type: 'bind', source: '/tmp', target: '/t', readonly: true }]);
  assert.equal(r.options.workdir, '/t');
  assert.equal(r.options.user, '1000');
  assert.deepEqual(r.options.labels, { a: 'b' });
  assert.deepEqual(r.options.restart, { name: 'always' });
  assert.deepEqual(r.options.health, { disabled: false, check: { Test: ['CMD-SHELL', 'true'], Interval: 5_000_000_000 } });
  assert.deepEqual(r.options.resources, { memory: { limit: 64 * 1024 * 1024, swap: 128 * 1024 * 1024 }, cpu: { quota: 50_000, period: 100_000 } });
  assert.equal(r.options.readOnly, true);
  assert.deepEqual(r.options.security.capDrop, ['ALL']);
  assert.deepEqual(r.options.security.capAdd, ['CAP_NET_RAW']);
  assert.equal(r.options.init, true);
  assert.equal(r.options.network, 'host');
});

test('ports, mounts, tmpfs, ulimits, dns, hosts, entrypoint and stop settings of `docker create` become flags berth checks', () => {
  const d = dockerCreateFlags(fixture('create-ports-mounts'));
  assert.deepEqual(d.flags.publish?.toSorted(), ['127.0.0.1::53/udp', '8080:80/tcp']);
  assert.deepEqual(d.flags.expose?.toSorted(), ['53/udp', '80/tcp']);
  assert.deepEqual(d.flags.mount, ['type=volume,target=/v', 'type=tmpfs,target=/t,tmpfs-size=1048576,tmpfs-mode=1770']);
  assert.deepEqual(d.flags.tmpfs, ['/x']);
  assert.deepEqual(d.flags.ulimit, ['nofile=10:20']);
  assert.deepEqual(d.flags.dns, ['1.1.1.1']);
  assert.deepEqual(d.flags.addHost, ['a:1.2.3.4']);
  assert.equal(d.flags.entrypoint, '["sh"]');
  assert.deepEqual(d.args, ['-c', 'true']);
  assert.equal(d.flags.stopSignal, 'TERM');
  assert.equal(d.flags.stopTimeout, '3');
  assert.equal(d.flags.pidsLimit, '10');
  assert.deepEqual(d.flags.securityOpt, ['no-new-privileges']);

  const r = dockerCreateRequest(fixture('create-ports-mounts'));
  assert.equal(r.options.network, 'bridge');
  assert.deepEqual(r.options.ports.toSorted((a, b) => a.containerPort - b.containerPort), [
    { hostIp: '127.0.0.1', hostPort: 0, containerPort: 53, protocol: 'udp' },
    { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
  ]);
  assert.deepEqual(r.options.entrypoint, ['sh']);
  assert.deepEqual(r.options.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }]);
  assert.deepEqual(r.options.mounts, [
    { type: 'volume', target: '/v', readonly: false, nocopy: false },
    { type: 'tmpfs', target: '/t', options: ['noexec', 'nosuid', 'nodev', 'size=1048576', 'mode=1770'] },
    { type: 'tmpfs', target: '/x', options: ['noexec', 'nosuid', 'nodev'] },
  ]);
  assert.deepEqual(r.options.expose, [{ port: 53, protocol: 'udp' }, { port: 80, protocol: 'tcp' }].toSorted((a, b2) => (a.port === 53 ? -1 : b2.port === 53 ? 1 : 0)));
  assert.equal(r.options.resources.pids?.limit, 10);
  assert.equal(r.options.stopSignal, 15);
  assert.equal(r.options.stopTimeout, 3);
  assert.equal(r.options.hostname, 'h');
  assert.deepEqual(r.options.dns, ['1.1.1.1']);
  assert.deepEqual(r.options.extraHosts, [{ host: 'a', ip: '1.2.3.4' }]);
  assert.equal(r.options.security.noNewPrivileges, true);
});

test('PortBindings in every form docker sends become -p values', () => {
  const d = dockerCreateFlags({
    Image: 'busybox',
    HostConfig: {
      PortBindings: {
        '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '::1', HostPort: '8081' }],
        '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
        '443': [{}],
        '9000/tcp': null,
        '7000/tcp': [{ HostPort: '7000-7010' }],
        '8080/tcp': [{ HostPort: '0' }],
      },
    },
  });
  assert.deepEqual(d.flags.publish?.toSorted(), ['127.0.0.1::53/udp', '443/tcp', '7000-7010:7000/tcp', '8080/tcp', '8080:80/tcp', '[::1]:8081:80/tcp']);
});

test('NetworkingConfig: aliases, IPv4 address and MAC of the one endpoint; a second network or another name than NetworkMode is refused', () => {
  const d = dockerCreateFlags({
    Image: 'busybox',
    HostConfig: { NetworkMode: 'mynet' },
    NetworkingConfig: { EndpointsConfig: { mynet: { Aliases: ['db'], IPAMConfig: { IPv4Address: '10.1.0.5' }, MacAddress: '02:00:00:00:00:01' } } },
  });
  assert.equal(d.flags.network, 'mynet');
  assert.deepEqual(d.flags.networkAlias, ['db']);
  assert.equal(d.flags.ip, '10.1.0.5');
  assert.equal(d.flags.macAddress, '02:00:00:00:00:01');
  // NetworkMode left empty: the endpoint's network is the one meant (dockerode, testcontainers send only this).
  assert.equal(dockerCreateFlags({ Image: 'busybox', NetworkingConfig: { EndpointsConfig: { other: {} } } }).flags.network, 'other');
  refused({ Image: 'busybox', HostConfig: { NetworkMode: 'a' }, NetworkingConfig: { EndpointsConfig: { b: {} } } }, /EndpointsConfig\["b"\]: names another network than HostConfig.NetworkMode "a"/);
  refused({ Image: 'busybox', NetworkingConfig: { EndpointsConfig: { a: {}, b: {} } } }, /NetworkingConfig.EndpointsConfig is not supported \(one network at create/);
  refused({ Image: 'busybox', HostConfig: { NetworkMode: 'a' }, NetworkingConfig: { EndpointsConfig: { a: { IPAMConfig: { IPv6Address: 'fd00::5' } } } } }, /EndpointsConfig\["a"\].IPAMConfig.IPv6Address "fd00::5" is not supported/);
  assert.equal(dockerCreateRequest(body((b) => (b['NetworkDisabled'] = true))).options.network, 'none');
});

test('fields berth has no part in are refused by name with 400, never ignored', () => {
  refused(body((b) => (b.HostConfig.Privileged = true)), /^HostConfig.Privileged is not supported$/);
  refused(body((b) => (b.HostConfig['Devices'] = [{ PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rwm' }])), /^HostConfig.Devices is not supported$/);
  refused(body((b) => (b.HostConfig['PidMode'] = 'host')), /^HostConfig.PidMode "host" is not supported$/);
  refused(body((b) => (b.HostConfig['ShmSize'] = 1 << 20)), /^HostConfig.ShmSize is not supported$/);
  refused(body((b) => (b.HostConfig['Sysctls'] = { 'net.ipv4.ip_forward': '1' })), /^HostConfig.Sysctls is not supported$/);
  refused(body((b) => (b.HostConfig['MemorySwappiness'] = 10)), /^HostConfig.MemorySwappiness is not supported$/);
  refused(body((b) => (b.HostConfig['MaskedPaths'] = [])), /^HostConfig.MaskedPaths is not supported/);
  refused(body((b) => (b.HostConfig['LogConfig'] = { Type: 'syslog', Config: {} })), /^HostConfig.LogConfig.Type "syslog": berth keeps logs in files/);
  refused(body((b) => (b.HostConfig['LogConfig'] = { Type: 'json-file', Config: { compress: 'true' } })), /^HostConfig.LogConfig.Config "compress=true": .*"compress" is not supported/);
  refused(body((b) => (b['Domainname'] = 'example.org')), /^Config.Domainname "example.org" is not supported/);
  refused(body((b) => (b.HostConfig['SecurityOpt'] = ['apparmor=docker-default'])), /^HostConfig.SecurityOpt "apparmor=docker-default" is not supported/);
  refused(body((b) => (b['Healthcheck'] = { Test: ['CMD', 'true'], StartInterval: 1e9 })), /^Config.Healthcheck.StartInterval is not supported/);
  refused(body((b) => (b.HostConfig['Mounts'] = [{ Type: 'bind', Source: '/tmp', Target: '/t', BindOptions: { NonRecursive: true } }])), /^HostConfig.Mounts\[0\].BindOptions.NonRecursive is not supported$/);
  // The defaults other daemons' clients send pass.
  const r = dockerCreateRequest(body((b) => Object.assign(b.HostConfig, { IpcMode: 'private', CgroupnsMode: 'private', Isolation: 'default', LogConfig: { Type: 'json-file', Config: {} }, SecurityOpt: ['label=disable', 'apparmor=unconfined'] })));
  assert.deepEqual(r.options.security.capAdd, []);
});

test('a bad value is refused naming the field it came from, not a flag', () => {
  refused(body((b) => (b.HostConfig['Memory'] = 1000)), /^HostConfig.Memory "1000": the minimum memory limit is 6m$/);
  refused(body((b) => (b['WorkingDir'] = 'rel')), /^Config.WorkingDir "rel": not an absolute path$/);
  refused(body((b) => (b.HostConfig['RestartPolicy'] = { Name: 'sometimes' })), /^HostConfig.RestartPolicy "sometimes"/);
  refused(body((b) => (b.HostConfig['RestartPolicy'] = { Name: 'always', MaximumRetryCount: 3 })), /MaximumRetryCount: is only for on-failure/);
  refused(body((b) => (b.HostConfig['Ulimits'] = [{ Name: 'nofile', Soft: 20, Hard: 10 }])), /^HostConfig.Ulimits "nofile=20:10": the soft limit 20 is above the hard limit 10$/);
  refused(body((b) => (b.HostConfig['CapAdd'] = ['NOT_A_CAP'])), /^HostConfig.CapAdd "NOT_A_CAP": not a capability$/);
  refused(body((b) => (b.HostConfig['Memory'] = '64m')), /^HostConfig.Memory: must be an integer$/);
  refused(body((b) => (b.HostConfig['Binds'] = ['rel/path:/x'])), /^HostConfig.Binds "rel\/path:\/x"/);
  refused(body((b) => Object.assign(b.HostConfig, { NanoCpus: 5e8, CpuQuota: 50000 })), /conflicting options: HostConfig.NanoCpus and HostConfig.CpuQuota/);
  refused(body((b) => (b['Image'] = '')), /^Config.Image: is required$/);
  refused('[]', /^body: must be a JSON object/);
  refused({ Image: 'busybox', HostConfig: [] }, /^HostConfig: must be a JSON object$/);
});

test('CpuQuota/CpuPeriod, a CMD health test, Config.Volumes and a seccomp profile sent as text', () => {
  const r = dockerCreateRequest(
    body((b) => {
      Object.assign(b.HostConfig, { CpuQuota: 25_000, CpuPeriod: 50_000, Binds: ['/tmp:/data'], SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] });
      b['Volumes'] = { '/data': {}, '/cache': {} };
      b['Healthcheck'] = { Test: ['CMD', 'wget', '-q', 'localhost'], Interval: 2e9, Retries: 2 };
      b['Entrypoint'] = [''];
    }),
  );
  assert.deepEqual(r.options.resources.cpu, { quota: 25_000, period: 50_000 });
  assert.deepEqual(r.options.health, { disabled: false, check: { Test: ['CMD', 'wget', '-q', 'localhost'], Interval: 2e9, Retries: 2 } });
  // The bind covers /data: only /cache becomes an anonymous volume.
  assert.deepEqual(r.options.mounts.map((m) => `${m.type}:${m.target}`), ['bind:/data', 'volume:/cache']);
  assert.equal(r.seccompProfileText, '{"defaultAction":"SCMP_ACT_ALLOW"}');
  assert.deepEqual(r.options.security.seccomp, { kind: 'file', path: 'HostConfig.SecurityOpt' });
  assert.deepEqual(r.options.entrypoint, []);
  assert.deepEqual(dockerCreateRequest(body((b) => (b['Healthcheck'] = { Test: ['NONE'] }))).options.health, { disabled: true });
  assert.deepEqual(dockerCreateRequest(body((b) => (b['Cmd'] = 'sh'))).args, ['sh']);
});

test('HostConfig.ConsoleSize is the terminal\'s first size, with Tty only', () => {
  assert.deepEqual(dockerCreateRequest(body((b) => Object.assign(b, { Tty: true }) && (b.HostConfig['ConsoleSize'] = [30, 100]))).consoleSize, { height: 30, width: 100 });
  assert.equal(dockerCreateRequest(body((b) => (b.HostConfig['ConsoleSize'] = [30, 100]))).consoleSize, undefined);
  assert.equal(dockerCreateRequest(body((b) => Object.assign(b, { Tty: true }))).consoleSize, undefined, 'the CLI\'s [0, 0]');
  refused(body((b) => (b.HostConfig['ConsoleSize'] = [30])), /^HostConfig.ConsoleSize: must be \[height, width\]$/);
});

test('Entrypoint [] without Cmd asks for the image\'s Cmd (dockerd runs it without the Entrypoint); [""] and a Cmd do not', () => {
  assert.equal(dockerCreateFlags({ Image: 'busybox', Entrypoint: [] }).imageCmd, true);
  assert.equal(dockerCreateFlags({ Image: 'busybox', Entrypoint: [''] }).imageCmd, false);
  assert.equal(dockerCreateFlags({ Image: 'busybox', Entrypoint: [], Cmd: ['true'] }).imageCmd, false);
  assert.equal(dockerCreateFlags({ Image: 'busybox' }).imageCmd, false);
});

test('LogConfig: json-file\'s max-size and max-file set the container\'s log rotation', () => {
  const r = dockerCreateRequest(body((b) => (b.HostConfig['LogConfig'] = { Type: 'json-file', Config: { 'max-size': '10k', 'max-file': '2' } })));
  assert.deepEqual(r.options.log, { driver: 'json-file', rotation: { maxSize: 10240, maxFiles: 2 } });
  assert.deepEqual(dockerCreateRequest(body((b) => (b.HostConfig['LogConfig'] = { Type: '', Config: { 'max-size': '-1' } }))).options.log, { rotation: { maxFiles: 1 } });
  assert.equal(dockerCreateRequest(body((b) => (b.HostConfig['LogConfig'] = { Type: '', Config: {} }))).options.log, undefined, 'nothing asked: the daemon\'s default');
  refused(body((b) => (b.HostConfig['LogConfig'] = { Type: 'local', Config: { 'max-file': '3' } })), /^HostConfig.LogConfig.Config "max-file=3": needs a max-size/);
  refused(body((b) => (b.HostConfig['LogConfig'] = { Type: 'local', Config: { 'max-size': 'ten' } })), /^HostConfig.LogConfig.Config "max-size=ten": max-size is not a size/);
});
