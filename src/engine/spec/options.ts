/**
 * What a user asks of `berth run` / `berth create`, in docker's (and
 * podman's) flag syntax, parsed into typed RunOptions. Each parser checks
 * the value as docker does and names the flag and value when refusing it.
 * Nothing here reads files or looks at the host: `--env-file` contents and
 * the caller's environment come in as data, and what needs the image (user
 * names, its Cmd, its HEALTHCHECK) is decided by container-spec.ts.
 */
import { parseSignal } from '../../runtime/linux/signal.ts';
import { parseEnv, type EnvFile } from './env.ts';
import { conflict, flagError } from './flag-error.ts';
import { parseHealth, type HealthFlags, type HealthOptions } from './health.ts';
import { parseMounts, type MountRequest } from './mounts.ts';
import { parseNetworkOptions, type NetworkFlags, type NetworkOptions } from './network-options.ts';
import { parseResources, type ResourceFlags, type ResourceOptions } from './resources.ts';
import { parseSecurity, type SecurityOptions } from './security.ts';
import { parseLogOptions, type LogOptions } from './log-options.ts';
import { parseLabels } from './labels.ts';

export { parseLabels };

/** The flags as the command line (or an API request) hands them over: text, lists in the order given. */
export interface RunFlags extends ResourceFlags, HealthFlags, NetworkFlags {
  name?: string | undefined;
  env?: readonly string[] | undefined;
  envFile?: readonly EnvFile[] | undefined;
  volume?: readonly string[] | undefined;
  mount?: readonly string[] | undefined;
  tmpfs?: readonly string[] | undefined;
  workdir?: string | undefined;
  user?: string | undefined;
  entrypoint?: string | undefined;
  hostname?: string | undefined;
  readOnly?: boolean | undefined;
  capAdd?: readonly string[] | undefined;
  capDrop?: readonly string[] | undefined;
  securityOpt?: readonly string[] | undefined;
  restart?: string | undefined;
  rm?: boolean | undefined;
  init?: boolean | undefined;
  label?: readonly string[] | undefined;
  stopSignal?: string | undefined;
  stopTimeout?: string | undefined;
  pull?: string | undefined;
  logDriver?: string | undefined;
  logOpt?: readonly string[] | undefined;
}

export type RestartPolicy =
  | { name: 'no' }
  | { name: 'always' }
  | { name: 'unless-stopped' }
  /** maxRetries 0: retry without limit. */
  | { name: 'on-failure'; maxRetries: number };

export type PullPolicy = 'missing' | 'always' | 'never';

export interface RunOptions extends NetworkOptions {
  name?: string;
  /** KEY=value, merged by key, in the order given. */
  env: string[];
  mounts: MountRequest[];
  workdir?: string;
  /** `user[:group]`, resolved against the image's /etc/passwd and /etc/group later. */
  user?: string;
  /** Given (even empty): replaces the image's Entrypoint and drops its Cmd. */
  entrypoint?: string[];
  hostname?: string;
  readOnly: boolean;
  security: SecurityOptions;
  resources: ResourceOptions['resources'];
  rlimits: ResourceOptions['rlimits'];
  restart: RestartPolicy;
  autoRemove: boolean;
  health: HealthOptions;
  init: boolean;
  labels: Record<string, string>;
  stopSignal?: number;
  /** Seconds; undefined: the engine's default (docker's 10). */
  stopTimeout?: number;
  /** --log-opt's rotation; undefined: the daemon's default. */
  log?: LogOptions;
  pull: PullPolicy;
}

/** Docker's container name rule (a leading "/" is the API's and dropped). */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** A hostname the kernel takes (at most 64 bytes) made of DNS label characters. */
const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62}[a-zA-Z0-9])?$/;

export function parseName(raw: string): string {
  const name = raw.startsWith('/') ? raw.slice(1) : raw;
  if (!NAME.test(name)) throw flagError('--name', raw, 'not a container name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (two characters or more)');
  return name;
}

export function parseRestart(raw: string): RestartPolicy {
  const [name = '', count, ...extra] = raw.split(':');
  if (extra.length > 0) throw flagError('--restart', raw, 'not no|on-failure[:N]|always|unless-stopped');
  if (name === 'on-failure') {
    if (count === undefined) return { name, maxRetries: 0 };
    if (!/^\d+$/.test(count)) throw flagError('--restart', raw, `"${count}" is not a number of retries`);
    return { name, maxRetries: Number(count) };
  }
  if (name === 'no' || name === 'always' || name === 'unless-stopped' || name === '') {
    if (count !== undefined) throw flagError('--restart', raw, 'a maximum retry count is only for on-failure');
    return { name: name === '' ? 'no' : name };
  }
  throw flagError('--restart', raw, 'not no|on-failure[:N]|always|unless-stopped');
}

export function parsePull(raw: string): PullPolicy {
  if (raw === 'missing' || raw === 'always' || raw === 'never') return raw;
  throw flagError('--pull', raw, 'not missing, always or never');
}

/** `--entrypoint X` is one program (docker); podman's JSON array form is taken too. */
export function parseEntrypoint(raw: string): string[] {
  if (raw === '') return [];
  if (raw.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      throw flagError('--entrypoint', raw, 'starts with "[" but is not a JSON array of strings', err);
    }
    if (!Array.isArray(parsed) || !parsed.every((a): a is string => typeof a === 'string')) {
      throw flagError('--entrypoint', raw, 'not a JSON array of strings');
    }
    return parsed;
  }
  return [raw];
}

export function parseUserFlag(raw: string): string {
  const parts = raw.split(':');
  if (parts.length > 2 || parts.some((p) => p === '')) throw flagError('--user', raw, 'not USER[:GROUP] (a name or number each)');
  return raw;
}

export function parseWorkdir(raw: string): string {
  if (!raw.startsWith('/')) throw flagError('--workdir', raw, 'not an absolute path');
  return raw;
}

export function parseHostname(raw: string): string {
  if (!HOSTNAME.test(raw)) throw flagError('--hostname', raw, 'not a hostname (letters, digits, "-" and ".", at most 64)');
  return raw;
}


function parseStopSignal(raw: string): number {
  try {
    return parseSignal(raw);
  } catch (err) {
    throw flagError('--stop-signal', raw, 'not a signal name or number', err);
  }
}

function parseStopTimeout(raw: string): number {
  if (!/^-?\d+$/.test(raw) || Number(raw) < -1) throw flagError('--stop-timeout', raw, 'not a number of seconds (-1: wait forever)');
  return Number(raw);
}

const optional = <T, K extends string>(key: K, raw: string | undefined, parse: (raw: string) => T): { [P in K]?: T } =>
  (raw === undefined ? {} : { [key]: parse(raw) }) as { [P in K]?: T };

/** Every flag checked and typed; `callerEnv` is where a bare `-e KEY` takes its value. */
export function parseRunOptions(f: RunFlags, callerEnv: Readonly<Record<string, string | undefined>> = {}): RunOptions {
  const restart = f.restart === undefined ? ({ name: 'no' } as const) : parseRestart(f.restart);
  if (f.rm === true && restart.name !== 'no') throw conflict('--restart', '--rm');
  const { resources, rlimits } = parseResources(f);
  const network = parseNetworkOptions(f);
  return {
    ...optional('name', f.name, parseName),
    env: parseEnv(f.env ?? [], f.envFile ?? [], callerEnv),
    mounts: parseMounts(f.volume ?? [], f.mount ?? [], f.tmpfs ?? []),
    ...optional('workdir', f.workdir, parseWorkdir),
    ...optional('user', f.user, parseUserFlag),
    ...optional('entrypoint', f.entrypoint, parseEntrypoint),
    ...optional('hostname', f.hostname, parseHostname),
    readOnly: f.readOnly === true,
    security: parseSecurity(f.capAdd ?? [], f.capDrop ?? [], f.securityOpt ?? []),
    resources,
    rlimits,
    restart,
    autoRemove: f.rm === true,
    health: parseHealth(f),
    init: f.init === true,
    labels: parseLabels(f.label ?? []),
    ...optional('stopSignal', f.stopSignal, parseStopSignal),
    ...optional('stopTimeout', f.stopTimeout, parseStopTimeout),
    ...network,
    pull: f.pull === undefined ? 'missing' : parsePull(f.pull),
    ...logOf(f),
  };
}

function logOf(f: RunFlags): { log?: LogOptions } {
  const log = parseLogOptions(f.logDriver, f.logOpt ?? []);
  return log === undefined ? {} : { log };
}
