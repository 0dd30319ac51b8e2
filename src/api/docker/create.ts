/**
 * Docker's ContainerCreate body (Config at the top, `HostConfig`,
 * `NetworkingConfig`) as berth's CreateRequest. The body is turned into
 * the flags `berth run` would have been given (strings as the CLI gives
 * them) and checked by the same parseRunOptions, so both paths accept and
 * refuse the same values; a flag's error is renamed to the field it came
 * from (`HostConfig.Memory "1000": the minimum memory limit is 6m`). What
 * is structured in JSON and has no flag form (CpuQuota/CpuPeriod, a CMD
 * health test) is set on the parsed options after.
 *
 * A field berth has no part in is accepted at the zero value the docker
 * CLI and the SDKs send for "not asked" and refused by name otherwise
 * (`HostConfig.Privileged is not supported`); fields unknown to this
 * mapping are ignored, as dockerd's JSON decoder ignores them. dockerd
 * never pulls at create (the client pulls on a 404 and asks again): the
 * pull policy is "never".
 */
import type { CreateRequest } from '../../engine/engine.ts';
import { networkKind } from '../../engine/spec/network-options.ts';
import { parseRunOptions, type RunFlags, type RunOptions } from '../../engine/spec/options.ts';
import { CPU_PERIOD } from '../../engine/spec/resources.ts';
import { BerthError, invalidArgument } from '../../errors.ts';
import { isObject } from '../../json-object.ts';
import { Fields, fieldInvalid, fieldUnsupported, isZero } from './json-fields.ts';

const HC = 'HostConfig';
const EP = 'NetworkingConfig.EndpointsConfig';

/** Which body field each flag of RunFlags is made from: a flag's error names the field instead. */
const FLAG_FIELDS: Readonly<Record<string, string>> = {
  '--name': 'query parameter "name"',
  '--env': 'Config.Env',
  '--volume': `${HC}.Binds`,
  '--mount': `${HC}.Mounts`,
  '--tmpfs': `${HC}.Tmpfs`,
  '--workdir': 'Config.WorkingDir',
  '--user': 'Config.User',
  '--entrypoint': 'Config.Entrypoint',
  '--hostname': 'Config.Hostname',
  '--cap-add': `${HC}.CapAdd`,
  '--cap-drop': `${HC}.CapDrop`,
  '--security-opt': `${HC}.SecurityOpt`,
  '--restart': `${HC}.RestartPolicy`,
  '--rm': `${HC}.AutoRemove`,
  '--label': 'Config.Labels',
  '--stop-signal': 'Config.StopSignal',
  '--stop-timeout': 'Config.StopTimeout',
  '--log-driver': `${HC}.LogConfig.Type`,
  '--log-opt': `${HC}.LogConfig.Config`,
  '--memory': `${HC}.Memory`,
  '--memory-swap': `${HC}.MemorySwap`,
  '--cpus': `${HC}.NanoCpus`,
  '--cpu-shares': `${HC}.CpuShares`,
  '--pids-limit': `${HC}.PidsLimit`,
  '--ulimit': `${HC}.Ulimits`,
  '--health-cmd': 'Config.Healthcheck.Test',
  '--health-interval': 'Config.Healthcheck.Interval',
  '--health-timeout': 'Config.Healthcheck.Timeout',
  '--health-start-period': 'Config.Healthcheck.StartPeriod',
  '--health-retries': 'Config.Healthcheck.Retries',
  '--no-healthcheck': 'Config.Healthcheck.Test',
  '--network': `${HC}.NetworkMode`,
  '--publish': `${HC}.PortBindings`,
  '--publish-all': `${HC}.PublishAllPorts`,
  '--expose': 'Config.ExposedPorts',
  '--network-alias': `${EP}.Aliases`,
  '--dns': `${HC}.Dns`,
  '--dns-search': `${HC}.DnsSearch`,
  '--dns-option': `${HC}.DnsOptions`,
  '--add-host': `${HC}.ExtraHosts`,
  '--ip': `${EP}.IPAMConfig.IPv4Address`,
  '--mac-address': `${EP}.MacAddress`,
};

/** A flag's error with the flags in its message replaced by the fields they came from. */
export function renamed(err: unknown): unknown {
  if (!(err instanceof BerthError) || (err.code !== 'run_flag_invalid' && err.code !== 'run_flags_conflict')) return err;
  let message = err.message;
  for (const [flag, field] of Object.entries(FLAG_FIELDS)) {
    message = message.replace(new RegExp(`(^|[ (])${flag}(?=[ "]|$)`, 'g'), `$1${field}`);
  }
  return new BerthError(err.kind, err.code, message, { details: err.details, ...(err.cause === undefined ? {} : { cause: err.cause }) });
}

/** Fields of berth's part with defaults other than zero that clients send. */
export const HOST_DEFAULTS: Readonly<Record<string, readonly unknown[]>> = {
  CgroupnsMode: ['private'],
  IpcMode: ['private', 'shareable'],
  Isolation: ['default'],
  MemorySwappiness: [-1],
  Runtime: ['berth-runtime'],
  // berth runs containers without a user namespace: "host" is what it does.
  UsernsMode: ['host'],
  VolumeDriver: ['local'],
};

/** HostConfig fields berth has no part in: accepted at zero (or a default above), refused otherwise. */
export const HOST_UNSUPPORTED = [
  'Annotations', 'BlkioDeviceReadBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteBps', 'BlkioDeviceWriteIOps', 'BlkioWeight',
  'BlkioWeightDevice', 'Cgroup', 'CgroupParent', 'CgroupnsMode', 'CpuCount', 'CpuPercent', 'CpuRealtimePeriod', 'CpuRealtimeRuntime',
  'CpusetCpus', 'CpusetMems', 'DeviceCgroupRules', 'DeviceRequests', 'Devices', 'GroupAdd', 'IOMaximumBandwidth', 'IOMaximumIOps',
  'IpcMode', 'Isolation', 'KernelMemory', 'KernelMemoryTCP', 'Links', 'MemoryReservation', 'MemorySwappiness', 'OomKillDisable',
  'OomScoreAdj', 'PidMode', 'Privileged', 'Runtime', 'ShmSize', 'StorageOpt', 'Sysctls', 'UTSMode', 'UsernsMode', 'VolumeDriver',
  'VolumesFrom',
] as const;

function refuseUnsupportedHost(h: Fields): void {
  for (const key of HOST_UNSUPPORTED) h.refuseUnlessDefault(key, HOST_DEFAULTS[key] ?? []);
  // [] is not "not asked" here: it asks to unmask every path.
  for (const key of ['MaskedPaths', 'ReadonlyPaths']) {
    if (h.raw(key) !== undefined) throw fieldUnsupported(h.name(key), 'berth masks the paths docker masks');
  }
}

/** LogConfig `{Type, Config: {"max-size": "10m"}}` as --log-driver and --log-opt. */
function logFlags(h: Fields): Pick<RunFlags, 'logDriver' | 'logOpt'> {
  const log = h.sub('LogConfig');
  const type = log.str('Type');
  return {
    ...(type === undefined || type === '' ? {} : { logDriver: type }),
    logOpt: Object.entries(log.strMap('Config') ?? {}).map(([k, v]) => `${k}=${v}`),
  };
}

/** `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}` as `-p` values. */
function publishFlags(h: Fields): string[] {
  const bindings = h.raw('PortBindings');
  if (bindings === undefined) return [];
  if (!isObject(bindings)) throw fieldInvalid(h.name('PortBindings'), 'must be an object of "PORT/PROTO" keys');
  const out: string[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    const field = `${h.name('PortBindings')}["${key}"]`;
    const slash = key.indexOf('/');
    const port = slash === -1 ? key : key.slice(0, slash);
    const proto = slash === -1 ? 'tcp' : key.slice(slash + 1);
    if (list === null) continue;
    if (!Array.isArray(list)) throw fieldInvalid(field, 'must be a list of {HostIp, HostPort}');
    list.forEach((b: unknown, i) => {
      const f = new Fields(`${field}[${i}]`, b);
      const ip = f.str('HostIp') ?? '';
      // "0" is any free port, as "" (testcontainers sends it).
      const host = (f.str('HostPort') ?? '').replace(/^0$/, '');
      const where = ip === '' ? '' : ip.includes(':') ? `[${ip}]:` : `${ip}:`;
      out.push(where !== '' ? `${where}${host}:${port}/${proto}` : host !== '' ? `${host}:${port}/${proto}` : `${port}/${proto}`);
    });
  }
  return out;
}

function mountValue(field: string, v: string): string {
  if (v.includes(',')) throw fieldInvalid(field, `"${v}" contains a comma, which berth's mount syntax cannot carry`);
  return v;
}

/** One of HostConfig.Mounts as a `--mount` value. */
function mountFlag(m: Fields): string {
  const type = m.str('Type') ?? '';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw fieldUnsupported(`${m.name('Type')} "${type}"`, 'bind, volume or tmpfs');
  const parts = [`type=${type}`];
  const source = m.text('Source');
  if (source !== undefined) parts.push(`source=${mountValue(m.name('Source'), source)}`);
  const target = m.text('Target');
  if (target === undefined) throw fieldInvalid(m.name('Target'), 'is required');
  parts.push(`target=${mountValue(m.name('Target'), target)}`);
  if (m.bool('ReadOnly')) parts.push('readonly');
  const only = (key: string, forType: string): Fields => {
    const sub = m.sub(key);
    if (type !== forType && !isZero(m.raw(key))) throw fieldInvalid(m.name(key), `is for type ${forType}, not ${type}`);
    return sub;
  };
  const bind = only('BindOptions', 'bind');
  const propagation = bind.text('Propagation');
  if (propagation !== undefined) parts.push(`bind-propagation=${mountValue(bind.name('Propagation'), propagation)}`);
  for (const key of ['NonRecursive', 'CreateMountpoint', 'ReadOnlyNonRecursive', 'ReadOnlyForceRecursive']) bind.refuseUnlessDefault(key);
  const volume = only('VolumeOptions', 'volume');
  if (volume.bool('NoCopy')) parts.push('volume-nocopy');
  for (const key of ['Labels', 'Subpath']) volume.refuseUnlessDefault(key);
  const driver = volume.sub('DriverConfig');
  driver.refuseUnlessDefault('Name', ['local']);
  driver.refuseUnlessDefault('Options');
  const tmpfs = only('TmpfsOptions', 'tmpfs');
  const size = tmpfs.nonZero('SizeBytes');
  if (size !== undefined) parts.push(`tmpfs-size=${size}`);
  const mode = tmpfs.nonZero('Mode');
  if (mode !== undefined) parts.push(`tmpfs-mode=${mode.toString(8)}`);
  tmpfs.refuseUnlessDefault('Options');
  return parts.join(',');
}

/** HostConfig.SecurityOpt: a seccomp profile arrives as its JSON text (the docker CLI reads the file). */
function securityOpts(h: Fields): { opts: string[]; seccompText?: string } {
  const opts: string[] = [];
  let seccompText: string | undefined;
  for (const raw of h.strs('SecurityOpt') ?? []) {
    const m = /^(seccomp|apparmor|label)[=:](.*)$/s.exec(raw);
    if (m?.[1] === 'seccomp' && m[2]!.trimStart().startsWith('{')) {
      seccompText = m[2]!;
      opts.push(`seccomp=${h.name('SecurityOpt')}`);
    } else if ((m?.[1] === 'apparmor' && m[2] === 'unconfined') || (m?.[1] === 'label' && m[2] === 'disable')) {
      // berth applies neither AppArmor nor SELinux labels: unconfined is what it does.
    } else if (m?.[1] === 'apparmor' || m?.[1] === 'label') {
      throw fieldUnsupported(`${h.name('SecurityOpt')} "${raw}"`, 'berth applies no AppArmor profile or SELinux label');
    } else {
      opts.push(raw);
    }
  }
  return { opts, ...(seccompText === undefined ? {} : { seccompText }) };
}

export function restartFlag(h: Fields): string | undefined {
  const rp = h.sub('RestartPolicy');
  const name = rp.str('Name') ?? '';
  const max = rp.int('MaximumRetryCount') ?? 0;
  if (max < 0) throw fieldInvalid(rp.name('MaximumRetryCount'), 'cannot be negative');
  if (max > 0 && name !== 'on-failure') throw fieldInvalid(rp.name('MaximumRetryCount'), `is only for on-failure, not "${name}"`);
  if (name === '') return undefined;
  return max > 0 ? `${name}:${max}` : name;
}

export function resourceFlags(h: Fields): RunFlags {
  const f: RunFlags = {};
  const memory = h.nonZero('Memory');
  if (memory !== undefined) f.memory = String(memory);
  const swap = h.nonZero('MemorySwap');
  if (swap !== undefined) f.memorySwap = String(swap);
  const nano = h.nonZero('NanoCpus');
  if (nano !== undefined) {
    if (nano < 0) throw fieldInvalid(h.name('NanoCpus'), 'cannot be negative');
    f.cpus = (nano / 1e9).toFixed(9).replace(/\.?0+$/, '');
  }
  const shares = h.nonZero('CpuShares');
  if (shares !== undefined) f.cpuShares = String(shares);
  const pids = h.nonZero('PidsLimit');
  if (pids !== undefined) f.pidsLimit = String(pids);
  f.ulimit = h.list('Ulimits').map((u, i) => {
    const l = new Fields(`${h.name('Ulimits')}[${i}]`, u);
    const name = l.str('Name') ?? '';
    return `${name}=${l.int('Soft') ?? 0}:${l.int('Hard') ?? 0}`;
  });
  return f;
}

/** CpuQuota/CpuPeriod in microseconds, as the kernel takes them (no flag of berth's carries a period). */
export function applyCfs(h: Fields, options: Pick<RunOptions, 'resources'>): void {
  const quota = h.nonZero('CpuQuota');
  const period = h.nonZero('CpuPeriod');
  if (quota === undefined && period === undefined) return;
  if (h.nonZero('NanoCpus') !== undefined) throw invalidArgument('run_flags_conflict', `conflicting options: ${h.name('NanoCpus')} and ${h.name('CpuQuota')}/${h.name('CpuPeriod')}`);
  if (period !== undefined && (period < 1000 || period > 1_000_000)) throw fieldInvalid(h.name('CpuPeriod'), `${period}: must be between 1000 and 1000000 microseconds`);
  if (quota !== undefined && quota !== -1 && quota < 1000) throw fieldInvalid(h.name('CpuQuota'), `${quota}: must be at least 1000 microseconds (or -1, no limit)`);
  options.resources.cpu = {
    ...options.resources.cpu,
    ...(quota === undefined || quota === -1 ? {} : { quota }),
    period: period ?? CPU_PERIOD,
  };
}

interface HealthChoice {
  flags: RunFlags;
  /** A `CMD` test (argv, no shell) has no flag form: set on the options after parsing. */
  execTest?: string[];
}

function healthFlags(c: Fields): HealthChoice {
  if (c.raw('Healthcheck') === undefined) return { flags: {} };
  const hc = c.sub('Healthcheck');
  const flags: RunFlags = {};
  const test = hc.strs('Test') ?? [];
  let execTest: string[] | undefined;
  if (test[0] === 'NONE') flags.noHealthcheck = true;
  else if (test[0] === 'CMD-SHELL' && test.length === 2) flags.healthCmd = test[1]!;
  else if (test[0] === 'CMD' && test.length > 1) execTest = test;
  else if (test.length > 0) throw fieldInvalid(hc.name('Test'), 'want [], ["NONE"], ["CMD", ARGS...] or ["CMD-SHELL", COMMAND]');
  const ns = (key: string): string | undefined => {
    const v = hc.nonZero(key);
    if (v !== undefined && v < 0) throw fieldInvalid(hc.name(key), 'cannot be negative');
    return v === undefined ? undefined : `${v}ns`;
  };
  const interval = ns('Interval');
  const timeout = ns('Timeout');
  const start = ns('StartPeriod');
  if (interval !== undefined) flags.healthInterval = interval;
  if (timeout !== undefined) flags.healthTimeout = timeout;
  if (start !== undefined) flags.healthStartPeriod = start;
  const retries = hc.nonZero('Retries');
  if (retries !== undefined) flags.healthRetries = String(retries);
  hc.refuseUnlessDefault('StartInterval', [], 'berth checks at Interval from the start');
  return { flags, ...(execTest === undefined ? {} : { execTest }) };
}

/** "default" is docker's word for its default network. */
function canonical(network: string): string {
  const kind = networkKind(network);
  return kind.kind === 'network' ? kind.name : network;
}

/** NetworkMode and the one endpoint of NetworkingConfig as network flags. */
function networkFlags(c: Fields, h: Fields, networking: Fields): RunFlags {
  const mode = h.str('NetworkMode') ?? '';
  let network = c.bool('NetworkDisabled') ? 'none' : mode === '' ? 'default' : mode;
  const f: RunFlags = {};
  const mac = c.text('MacAddress');
  if (mac !== undefined) f.macAddress = mac;
  const endpoints = networking.raw('EndpointsConfig');
  if (endpoints !== undefined && !isObject(endpoints)) throw fieldInvalid(EP, 'must be an object of network names');
  const names = Object.keys(endpoints ?? {});
  if (names.length > 1) throw fieldUnsupported(EP, `one network at create (got ${names.join(', ')}); connect others after`);
  const name = names[0];
  if (name !== undefined) {
    if (canonical(name) !== canonical(network)) {
      if (mode !== '' && mode !== 'default') throw fieldInvalid(`${EP}["${name}"]`, `names another network than ${h.name('NetworkMode')} "${mode}"`);
      network = name;
    }
    const e = new Fields(`${EP}["${name}"]`, (endpoints as Record<string, unknown>)[name]);
    const aliases = e.strs('Aliases');
    if (aliases !== undefined && aliases.length > 0) f.networkAlias = aliases;
    const ipam = e.sub('IPAMConfig');
    const ip = ipam.text('IPv4Address');
    if (ip !== undefined) f.ip = ip;
    ipam.refuseUnlessDefault('IPv6Address');
    ipam.refuseUnlessDefault('LinkLocalIPs');
    const epMac = e.text('MacAddress');
    if (epMac !== undefined) f.macAddress = epMac;
    for (const key of ['Links', 'DriverOpts', 'GwPriority']) e.refuseUnlessDefault(key);
  }
  f.network = network;
  return f;
}

/** Config.Volumes: anonymous volumes, except where a bind, mount or tmpfs already covers the path (as dockerd). */
function anonymousVolumes(c: Fields, taken: readonly string[]): string[] {
  const v = c.raw('Volumes');
  if (v === undefined) return [];
  if (!isObject(v)) throw fieldInvalid(c.name('Volumes'), 'must be an object of container paths');
  const covered = new Set(taken.map((t) => t.replace(/(.)\/+$/, '$1')));
  return Object.keys(v).filter((t) => !covered.has(t.replace(/(.)\/+$/, '$1')));
}

function exposedPorts(c: Fields): string[] {
  const v = c.raw('ExposedPorts');
  if (v === undefined) return [];
  if (!isObject(v)) throw fieldInvalid(c.name('ExposedPorts'), 'must be an object of "PORT/PROTO" keys');
  return Object.keys(v);
}

function targetsOf(binds: readonly string[], mounts: readonly string[], tmpfs: readonly string[]): string[] {
  const out = binds.map((b) => b.split(':')[1] ?? b);
  for (const m of mounts) for (const part of m.split(',')) if (/^(target|destination|dst)=/.test(part)) out.push(part.slice(part.indexOf('=') + 1));
  return [...out, ...tmpfs.map((t) => t.split(':')[0]!)];
}

/** HostConfig.ConsoleSize [height, width]: the terminal's first size; [0, 0] (what the CLI sends without a terminal) is none. */
function consoleSize(h: Fields, tty: boolean): { height: number; width: number } | undefined {
  const v = h.raw('ConsoleSize');
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) throw fieldInvalid(h.name('ConsoleSize'), 'must be [height, width]');
  const [height, width] = v as [number, number];
  return tty && height > 0 && width > 0 ? { height, width } : undefined;
}

export interface CreateQuery {
  name?: string | undefined;
}

/** The body read and turned into flags, before parseRunOptions checks them. */
export interface DockerCreateFlags {
  image: string;
  args: string[];
  flags: RunFlags;
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  seccompProfileText?: string;
  consoleSize?: { height: number; width: number };
  /** Entrypoint [] with no Cmd: dockerd runs the image's Cmd without its Entrypoint (berth's empty entrypoint drops both). */
  imageCmd: boolean;
  /** Set on the parsed options: what has no flag form. */
  finish: (options: RunOptions) => void;
}

export function dockerCreateFlags(body: unknown, query: CreateQuery = {}): DockerCreateFlags {
  if (!isObject(body)) throw fieldInvalid('body', 'must be a JSON object (ContainerConfig with HostConfig and NetworkingConfig)');
  const c = new Fields('Config', body);
  const h = new Fields(HC, body['HostConfig']);
  const networking = new Fields('NetworkingConfig', body['NetworkingConfig']);
  const image = c.text('Image');
  if (image === undefined) throw fieldInvalid('Config.Image', 'is required');
  c.refuseUnlessDefault('Domainname', [], 'the hostname is the container\'s only name');
  refuseUnsupportedHost(h);

  const binds = h.strs('Binds') ?? [];
  const mounts = h.list('Mounts').map((m, i) => mountFlag(new Fields(`${h.name('Mounts')}[${i}]`, m)));
  const tmpfs = Object.entries(h.strMap('Tmpfs') ?? {}).map(([target, opts]) => (opts === '' ? target : `${target}:${opts}`));
  const security = securityOpts(h);
  const entrypoint = c.strs('Entrypoint', true);
  const health = healthFlags(c);
  const stopTimeout = c.int('StopTimeout');
  const flags: RunFlags = {
    ...(query.name === undefined || query.name === '' ? {} : { name: query.name }),
    env: c.strs('Env') ?? [],
    volume: [...binds, ...anonymousVolumes(c, targetsOf(binds, mounts, tmpfs))],
    mount: mounts,
    tmpfs,
    workdir: c.text('WorkingDir'),
    user: c.text('User'),
    // An empty Entrypoint ([] or [""]) clears the image's, as `--entrypoint ""` does.
    entrypoint: entrypoint === undefined ? undefined : entrypoint.every((a) => a === '') ? '' : JSON.stringify(entrypoint),
    hostname: c.text('Hostname'),
    readOnly: h.bool('ReadonlyRootfs'),
    capAdd: h.strs('CapAdd') ?? [],
    capDrop: h.strs('CapDrop') ?? [],
    securityOpt: security.opts,
    restart: restartFlag(h),
    rm: h.bool('AutoRemove'),
    init: h.bool('Init'),
    label: Object.entries(c.strMap('Labels') ?? {}).map(([k, v]) => `${k}=${v}`),
    stopSignal: c.text('StopSignal'),
    stopTimeout: stopTimeout === undefined ? undefined : String(stopTimeout),
    pull: 'never',
    ...logFlags(h),
    ...resourceFlags(h),
    ...health.flags,
    ...networkFlags(c, h, networking),
    publish: publishFlags(h),
    publishAll: h.bool('PublishAllPorts'),
    expose: exposedPorts(c),
    dns: h.strs('Dns') ?? [],
    dnsSearch: h.strs('DnsSearch') ?? [],
    dnsOption: h.strs('DnsOptions') ?? [],
    addHost: h.strs('ExtraHosts') ?? [],
  };
  const size = consoleSize(h, c.bool('Tty'));
  const finish = (options: RunOptions): void => {
    applyCfs(h, options);
    if (health.execTest !== undefined) {
      const check = options.health?.disabled === false ? options.health.check : {};
      options.health = { disabled: false, check: { ...check, Test: health.execTest } };
    }
  };
  const args = c.strs('Cmd', true) ?? [];
  return {
    image,
    args,
    imageCmd: entrypoint !== undefined && entrypoint.length === 0 && args.length === 0,
    flags,
    tty: c.bool('Tty'),
    openStdin: c.bool('OpenStdin'),
    stdinOnce: c.bool('StdinOnce'),
    ...(security.seccompText === undefined ? {} : { seccompProfileText: security.seccompText }),
    ...(size === undefined ? {} : { consoleSize: size }),
    finish,
  };
}

/** The create body and query as the engine's request; every value checked, nothing half taken. */
export function dockerCreateRequest(body: unknown, query: CreateQuery = {}): CreateRequest {
  return createRequestOf(dockerCreateFlags(body, query));
}

/** The flags checked by parseRunOptions (the caller may fill `args` first, when `imageCmd` asks for the image's). */
export function createRequestOf(d: DockerCreateFlags): CreateRequest {
  let options: RunOptions;
  try {
    options = parseRunOptions(d.flags);
    d.finish(options);
  } catch (err) {
    throw renamed(err);
  }
  return {
    image: d.image,
    args: d.args,
    options,
    tty: d.tty,
    openStdin: d.openStdin,
    stdinOnce: d.stdinOnce,
    ...(d.seccompProfileText === undefined ? {} : { seccompProfileText: d.seccompProfileText }),
    ...(d.consoleSize === undefined ? {} : { consoleSize: d.consoleSize }),
  };
}
