/**
 * The flags of berth's container and volume commands besides run, create
 * and exec (container-flags.ts), with docker's names, short forms and help
 * texts, and the few parsers that turn them into what the API takes.
 */
import type { FlagSpec, FlagValues } from '../framework/flags.ts';
import { bool, list, str } from '../framework/flags.ts';
import { invalidArgument, unsupported } from '../../errors.ts';
import { parseLabels } from '../../engine/spec/labels.ts';
import { parseSince } from './since.ts';

const FORMAT_HELP = "Format output: 'table' (the default), 'table TEMPLATE' (a Go template in columns), 'json', or a Go TEMPLATE";
const INSPECT_FORMAT_HELP = "Format output: 'json', or a Go TEMPLATE applied to each object (default: indented JSON)";

export const LOGS_FLAGS = [
  { name: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
  { name: 'since', type: 'string', value: 'string', help: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
  { name: 'until', type: 'string', value: 'string', help: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
  { name: 'tail', short: 'n', type: 'string', value: 'string', help: 'Number of lines to show from the end of the logs (default "all")' },
  { name: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
] as const satisfies readonly FlagSpec[];

export const STOP_FLAGS = [
  { name: 'signal', short: 's', type: 'string', value: 'string', help: 'Signal to send to the container' },
  { name: 'time', short: 't', type: 'int', value: 'int', help: 'Seconds to wait before killing the container' },
] as const satisfies readonly FlagSpec[];

/** `restart` takes stop's flags. */
export const RESTART_FLAGS = STOP_FLAGS;

export const KILL_FLAGS = [{ name: 'signal', short: 's', type: 'string', value: 'string', help: 'Signal to send to the container' }] as const satisfies readonly FlagSpec[];

export const RM_FLAGS = [
  { name: 'force', short: 'f', type: 'bool', help: 'Force the removal of a running container (uses SIGKILL)' },
  { name: 'volumes', short: 'v', type: 'bool', help: 'Remove anonymous volumes associated with the container' },
] as const satisfies readonly FlagSpec[];

export const PS_FLAGS = [
  { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
  { name: 'quiet', short: 'q', type: 'bool', help: 'Only display container IDs' },
  { name: 'last', short: 'n', type: 'int', value: 'int', help: 'Show n last created containers (includes all states) (default -1)' },
  { name: 'latest', short: 'l', type: 'bool', help: 'Show the latest created container (includes all states)' },
  { name: 'filter', short: 'f', type: 'list', value: 'filter', help: 'Filter output based on conditions provided' },
  { name: 'format', type: 'string', value: 'string', help: FORMAT_HELP },
  { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
  { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes' },
] as const satisfies readonly FlagSpec[];

export const STATS_FLAGS = [
  { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
  { name: 'no-stream', type: 'bool', help: 'Disable streaming stats and only pull the first result' },
  { name: 'format', type: 'string', value: 'string', help: FORMAT_HELP },
  { name: 'no-trunc', type: 'bool', help: 'Do not truncate output' },
] as const satisfies readonly FlagSpec[];

export const EVENTS_FLAGS = [
  { name: 'since', type: 'string', value: 'string', help: 'Show all events created since timestamp' },
  { name: 'until', type: 'string', value: 'string', help: 'Stream events until this timestamp' },
  { name: 'filter', short: 'f', type: 'list', value: 'filter', help: 'Filter output based on conditions provided' },
  { name: 'format', type: 'string', value: 'string', help: "Format output: 'json', or a Go TEMPLATE applied to each event" },
] as const satisfies readonly FlagSpec[];

export const INSPECT_FLAGS = [
  { name: 'format', short: 'f', type: 'string', value: 'string', help: INSPECT_FORMAT_HELP },
  { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes' },
] as const satisfies readonly FlagSpec[];

export const CP_FLAGS = [
  { name: 'archive', short: 'a', type: 'bool', help: 'Archive mode (copy all uid/gid information)' },
  { name: 'follow-link', short: 'L', type: 'bool', help: 'Always follow symbol link in SRC_PATH' },
] as const satisfies readonly FlagSpec[];

export const UPDATE_FLAGS = [
  { name: 'memory', short: 'm', type: 'string', value: 'bytes', help: 'Memory limit' },
  { name: 'memory-swap', type: 'string', value: 'bytes', help: "Swap limit equal to memory plus swap: -1 to enable unlimited swap" },
  { name: 'cpus', type: 'string', value: 'decimal', help: 'Number of CPUs' },
  { name: 'pids-limit', type: 'string', value: 'int', help: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'restart', type: 'string', value: 'string', help: 'Restart policy to apply when a container exits' },
] as const satisfies readonly FlagSpec[];

export const CONTAINER_PRUNE_FLAGS = [
  { name: 'filter', type: 'list', value: 'filter', help: 'Provide filter values (e.g. "until=<timestamp>")' },
  { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
] as const satisfies readonly FlagSpec[];

/** top, port, wait, rename, pause, unpause take no flags. */
export const NO_FLAGS = [] as const satisfies readonly FlagSpec[];

export const VOLUME_CREATE_FLAGS = [
  { name: 'driver', short: 'd', type: 'string', value: 'string', help: 'Specify volume driver name (default "local")' },
  { name: 'label', type: 'list', value: 'list', help: 'Set metadata for a volume' },
  { name: 'opt', short: 'o', type: 'list', value: 'map', help: 'Set driver specific options (none yet)' },
] as const satisfies readonly FlagSpec[];

export const VOLUME_LS_FLAGS = [
  { name: 'quiet', short: 'q', type: 'bool', help: 'Only display volume names' },
  { name: 'filter', short: 'f', type: 'list', value: 'filter', help: 'Provide filter values (e.g. "dangling=true")' },
  { name: 'format', type: 'string', value: 'string', help: FORMAT_HELP },
] as const satisfies readonly FlagSpec[];

export const VOLUME_INSPECT_FLAGS = [{ name: 'format', short: 'f', type: 'string', value: 'string', help: INSPECT_FORMAT_HELP }] as const satisfies readonly FlagSpec[];

export const VOLUME_RM_FLAGS = [{ name: 'force', short: 'f', type: 'bool', help: 'Force the removal of one or more volumes' }] as const satisfies readonly FlagSpec[];

export const VOLUME_PRUNE_FLAGS = [
  { name: 'all', short: 'a', type: 'bool', help: 'Remove all unused volumes, not just anonymous ones' },
  { name: 'filter', type: 'list', value: 'filter', help: 'Provide filter values (e.g. "label=<label>")' },
  { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
] as const satisfies readonly FlagSpec[];

export interface LogsOptions {
  follow: boolean;
  timestamps: boolean;
  /** Unix nanoseconds. */
  since?: bigint;
  until?: bigint;
  /** Lines from the end; undefined: all. */
  tail?: number;
}

/** `logs` flags, times read relative to `now` (milliseconds). */
export function logsOptionsFrom(flags: FlagValues, now: number = Date.now()): LogsOptions {
  const since = str(flags, 'since');
  const until = str(flags, 'until');
  const tail = str(flags, 'tail');
  let lines: number | undefined;
  if (tail !== undefined && tail !== 'all') {
    if (!/^-?\d+$/.test(tail)) throw invalidArgument('invalid_flag', `--tail ${JSON.stringify(tail)}: not a number of lines or "all"`, { details: { flag: '--tail', value: tail } });
    // Docker: a negative count means all.
    if (Number(tail) >= 0) lines = Number(tail);
  }
  return {
    follow: bool(flags, 'follow'),
    timestamps: bool(flags, 'timestamps'),
    ...(since === undefined ? {} : { since: parseSince(since, now, '--since') }),
    ...(until === undefined ? {} : { until: parseSince(until, now, '--until') }),
    ...(lines === undefined ? {} : { tail: lines }),
  };
}

export interface VolumeCreateOptions {
  driver: string;
  labels: Record<string, string>;
}

/** `volume create` flags: the local driver only, and no driver options yet. */
export function volumeCreateFrom(flags: FlagValues): VolumeCreateOptions {
  const driver = str(flags, 'driver') ?? 'local';
  if (driver !== 'local') throw unsupported('volume_driver_unsupported', `--driver ${JSON.stringify(driver)}: only the "local" volume driver exists`, { details: { flag: '--driver', value: driver } });
  const opt = list(flags, 'opt');
  if (opt.length > 0) throw unsupported('volume_opt_unsupported', `--opt ${JSON.stringify(opt[0])}: the local driver takes no options yet (type, device and o arrive later)`, { details: { flag: '--opt', value: opt[0] } });
  return { driver, labels: parseLabels(list(flags, 'label')) };
}
