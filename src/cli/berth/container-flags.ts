/**
 * `berth run`, `berth create` and `berth exec` flags with docker's names,
 * short forms and help texts, and what the client makes of them: RunFlags
 * for the engine (src/engine/spec/options.ts checks every value), with the
 * --env-file files read here, on the client's side, as docker's CLI does.
 * Repeated flags (`-e`, `-v`, `-l`, ...) keep the order given. Commands
 * that take these declare `flagsEndAtFirstArg`, so `berth run busybox ls
 * -l` hands `-l` to ls.
 */
import type { FlagSpec, FlagValues } from '../framework/flags.ts';
import { bool, list, str } from '../framework/flags.ts';
import { describeError, unsupported } from '../../errors.ts';
import type { EnvFile } from '../../engine/spec/env.ts';
import { parseEnv } from '../../engine/spec/env.ts';
import { flagError } from '../../engine/spec/flag-error.ts';
import type { RunFlags } from '../../engine/spec/options.ts';

/** What both `run` and `create` take (docker's `create` has no --detach). */
export const CREATE_FLAGS = [
  { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  { name: 'rm', type: 'bool', help: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'name', type: 'string', value: 'string', help: 'Assign a name to the container' },
  { name: 'env', short: 'e', type: 'list', value: 'list', help: 'Set environment variables' },
  { name: 'env-file', type: 'list', value: 'list', help: 'Read in a file of environment variables' },
  { name: 'volume', short: 'v', type: 'list', value: 'list', help: 'Bind mount a volume' },
  { name: 'mount', type: 'list', value: 'mount', help: 'Attach a filesystem mount to the container' },
  { name: 'tmpfs', type: 'list', value: 'list', help: 'Mount a tmpfs directory' },
  { name: 'workdir', short: 'w', type: 'string', value: 'string', help: 'Working directory inside the container' },
  { name: 'user', short: 'u', type: 'string', value: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'entrypoint', type: 'string', value: 'string', help: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'hostname', short: 'h', type: 'string', value: 'string', help: 'Container host name' },
  { name: 'read-only', type: 'bool', help: "Mount the container's root filesystem as read only" },
  { name: 'cap-add', type: 'list', value: 'list', help: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', value: 'list', help: 'Drop Linux capabilities' },
  { name: 'security-opt', type: 'list', value: 'list', help: 'Security Options' },
  { name: 'memory', short: 'm', type: 'string', value: 'bytes', help: 'Memory limit' },
  { name: 'memory-swap', type: 'string', value: 'bytes', help: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { name: 'cpus', type: 'string', value: 'decimal', help: 'Number of CPUs' },
  { name: 'cpu-shares', short: 'c', type: 'string', value: 'int', help: 'CPU shares (relative weight)' },
  { name: 'pids-limit', type: 'string', value: 'int', help: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'ulimit', type: 'list', value: 'ulimit', help: 'Ulimit options' },
  { name: 'restart', type: 'string', value: 'string', help: 'Restart policy to apply when a container exits (default "no")' },
  { name: 'health-cmd', type: 'string', value: 'string', help: 'Command to run to check health' },
  { name: 'health-interval', type: 'string', value: 'duration', help: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { name: 'health-retries', type: 'string', value: 'int', help: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-timeout', type: 'string', value: 'duration', help: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  {
    name: 'health-start-period',
    type: 'string',
    value: 'duration',
    help: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)',
  },
  { name: 'no-healthcheck', type: 'bool', help: 'Disable any container-specified HEALTHCHECK' },
  { name: 'init', type: 'bool', help: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'label', short: 'l', type: 'list', value: 'list', help: 'Set meta data on a container' },
  { name: 'stop-signal', type: 'string', value: 'string', help: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'string', value: 'int', help: 'Timeout (in seconds) to stop a container' },
  { name: 'log-driver', type: 'string', value: 'string', help: 'Logging driver for the container (json-file, local, k8s-file: berth\'s rotated files)' },
  { name: 'log-opt', type: 'list', value: 'list', help: 'Log driver options (max-size, max-file)' },
  { name: 'network', type: 'string', value: 'network', help: 'Connect a container to a network' },
  { name: 'net', type: 'string', value: 'network', help: 'Same as --network' },
  { name: 'network-alias', type: 'list', value: 'list', help: 'Add network-scoped alias for the container' },
  { name: 'pull', type: 'string', value: 'string', help: 'Pull image before running ("always", "missing", "never") (default "missing")' },
  { name: 'publish', short: 'p', type: 'list', value: 'list', help: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', type: 'bool', help: 'Publish all exposed ports to random ports' },
  { name: 'expose', type: 'list', value: 'list', help: 'Expose a port or a range of ports' },
  { name: 'dns', type: 'list', value: 'list', help: 'Set custom DNS servers' },
  { name: 'dns-search', type: 'list', value: 'list', help: 'Set custom DNS search domains' },
  { name: 'dns-option', type: 'list', value: 'list', help: 'Set DNS options' },
  { name: 'add-host', type: 'list', value: 'list', help: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'ip', type: 'string', value: 'string', help: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'mac-address', type: 'string', value: 'string', help: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
] as const satisfies readonly FlagSpec[];

export const RUN_FLAGS = [
  { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
  ...CREATE_FLAGS,
] as const satisfies readonly FlagSpec[];

export const EXEC_FLAGS = [
  { name: 'detach', short: 'd', type: 'bool', help: 'Detached mode: run command in the background' },
  { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  { name: 'user', short: 'u', type: 'string', value: 'string', help: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
  { name: 'workdir', short: 'w', type: 'string', value: 'string', help: 'Working directory inside the container' },
  { name: 'env', short: 'e', type: 'list', value: 'list', help: 'Set environment variables' },
  { name: 'env-file', type: 'list', value: 'list', help: 'Read in a file of environment variables' },
  { name: 'privileged', type: 'bool', help: 'Give extended privileges to the command (not supported)' },
] as const satisfies readonly FlagSpec[];

/** Reads a file's text; throws on failure (its error becomes the cause of ours). */
export type ReadFile = (path: string) => string;

/** The client-side half of run/create/exec: how the caller's terminal is attached. */
export interface StdioFlags {
  detach: boolean;
  interactive: boolean;
  tty: boolean;
}

export function stdioFlagsFrom(flags: FlagValues): StdioFlags {
  return { detach: bool(flags, 'detach'), interactive: bool(flags, 'interactive'), tty: bool(flags, 'tty') };
}

function readEnvFiles(flags: FlagValues, readFile: ReadFile): EnvFile[] {
  return list(flags, 'env-file').map((path) => {
    try {
      return { path, text: readFile(path) };
    } catch (err) {
      throw flagError('--env-file', path, `cannot read it: ${describeError(err)}`, err);
    }
  });
}

/** `--network` and its old name `--net`; both given, they must agree. */
function networkFrom(flags: FlagValues): string | undefined {
  const network = str(flags, 'network');
  const net = str(flags, 'net');
  if (network !== undefined && net !== undefined && network !== net) {
    throw flagError('--net', net, `conflicts with --network ${JSON.stringify(network)} (the same flag under its old name)`);
  }
  return network ?? net;
}

const nonEmpty = (values: string[]): string[] | undefined => (values.length === 0 ? undefined : values);

/** The RunFlags of a parsed `run`/`create` command line, with --env-file files read through `readFile`. */
export function runFlagsFrom(flags: FlagValues, readFile: ReadFile): RunFlags {
  const envFile = readEnvFiles(flags, readFile);
  const out: RunFlags = {
    name: str(flags, 'name'),
    env: nonEmpty(list(flags, 'env')),
    envFile: envFile.length === 0 ? undefined : envFile,
    volume: nonEmpty(list(flags, 'volume')),
    mount: nonEmpty(list(flags, 'mount')),
    tmpfs: nonEmpty(list(flags, 'tmpfs')),
    workdir: str(flags, 'workdir'),
    user: str(flags, 'user'),
    entrypoint: str(flags, 'entrypoint'),
    hostname: str(flags, 'hostname'),
    readOnly: bool(flags, 'read-only') || undefined,
    capAdd: nonEmpty(list(flags, 'cap-add')),
    capDrop: nonEmpty(list(flags, 'cap-drop')),
    securityOpt: nonEmpty(list(flags, 'security-opt')),
    memory: str(flags, 'memory'),
    memorySwap: str(flags, 'memory-swap'),
    cpus: str(flags, 'cpus'),
    cpuShares: str(flags, 'cpu-shares'),
    pidsLimit: str(flags, 'pids-limit'),
    ulimit: nonEmpty(list(flags, 'ulimit')),
    restart: str(flags, 'restart'),
    rm: bool(flags, 'rm') || undefined,
    healthCmd: str(flags, 'health-cmd'),
    healthInterval: str(flags, 'health-interval'),
    healthRetries: str(flags, 'health-retries'),
    healthTimeout: str(flags, 'health-timeout'),
    healthStartPeriod: str(flags, 'health-start-period'),
    noHealthcheck: bool(flags, 'no-healthcheck') || undefined,
    init: bool(flags, 'init') || undefined,
    label: nonEmpty(list(flags, 'label')),
    stopSignal: str(flags, 'stop-signal'),
    stopTimeout: str(flags, 'stop-timeout'),
    logDriver: str(flags, 'log-driver'),
    logOpt: nonEmpty(list(flags, 'log-opt')),
    network: networkFrom(flags),
    networkAlias: nonEmpty(list(flags, 'network-alias')),
    publish: nonEmpty(list(flags, 'publish')),
    publishAll: bool(flags, 'publish-all') || undefined,
    expose: nonEmpty(list(flags, 'expose')),
    dns: nonEmpty(list(flags, 'dns')),
    dnsSearch: nonEmpty(list(flags, 'dns-search')),
    dnsOption: nonEmpty(list(flags, 'dns-option')),
    addHost: nonEmpty(list(flags, 'add-host')),
    ip: str(flags, 'ip'),
    macAddress: str(flags, 'mac-address'),
    pull: str(flags, 'pull'),
  };
  // Only what was given: an absent flag stays absent for the engine's defaults.
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

export interface ExecFlags extends StdioFlags {
  user?: string;
  workdir?: string;
  /** KEY=value from --env-file then -e, merged by key (a bare KEY takes the caller's value). */
  env: string[];
}

/** `exec`'s flags; --privileged is refused (berth does not widen a running container's privileges). */
export function execFlagsFrom(flags: FlagValues, readFile: ReadFile, callerEnv: Readonly<Record<string, string | undefined>>): ExecFlags {
  if (bool(flags, 'privileged')) {
    throw unsupported('exec_privileged_unsupported', 'exec --privileged: not supported (the command gets the container\'s own privileges)', {
      details: { flag: '--privileged' },
    });
  }
  const user = str(flags, 'user');
  const workdir = str(flags, 'workdir');
  if (workdir !== undefined && !workdir.startsWith('/')) throw flagError('--workdir', workdir, 'not an absolute path');
  return {
    ...stdioFlagsFrom(flags),
    ...(user === undefined ? {} : { user }),
    ...(workdir === undefined ? {} : { workdir }),
    env: parseEnv(list(flags, 'env'), readEnvFiles(flags, readFile), callerEnv),
  };
}
