import { readFile } from 'node:fs/promises';
import { str, type FlagSpec, type FlagValues } from '../../framework/flags.ts';
import { describeError, errnoCode, invalidArgument, notFound, unsupported } from '../../../errors.ts';
import type { LinuxResources } from '../../../oci/runtime-spec.ts';
import { warn } from '../../../runtime/lifecycle/context.ts';
import { parseResources, ramInBytes, update } from '../../../runtime/lifecycle/update.ts';

export { ramInBytes };
import { defineCommand } from '../context.ts';

type Parse = (text: string) => number;
const uint: Parse = (t) => {
  if (!/^\d+$/.test(t)) throw invalidArgument('invalid_flag', 'not a non-negative integer');
  return Number(t);
};
const sint: Parse = (t) => {
  if (!/^-?\d+$/.test(t)) throw invalidArgument('invalid_flag', 'not an integer');
  return Number(t);
};
const size: Parse = (t) => (t === '-1' ? -1 : ramInBytes(t));

/** Each numeric flag: where it goes in linux.resources and how its text is read. */
const NUMERIC: [flag: string, section: 'memory' | 'cpu' | 'blockIO' | 'pids', field: string, parse: Parse][] = [
  ['memory', 'memory', 'limit', size],
  ['memory-reservation', 'memory', 'reservation', size],
  ['memory-swap', 'memory', 'swap', size],
  ['cpu-share', 'cpu', 'shares', uint],
  ['cpu-shares', 'cpu', 'shares', uint],
  ['cpu-quota', 'cpu', 'quota', sint],
  ['cpu-period', 'cpu', 'period', uint],
  ['cpu-burst', 'cpu', 'burst', uint],
  ['cpu-rt-runtime', 'cpu', 'realtimeRuntime', sint],
  ['cpu-rt-period', 'cpu', 'realtimePeriod', uint],
  ['cpu-idle', 'cpu', 'idle', sint],
  ['blkio-weight', 'blockIO', 'weight', uint],
  ['pids-limit', 'pids', 'limit', sint],
];

const REFUSED: Record<string, string> = {
  'kernel-memory': 'kernel memory limits are deprecated (the kernel ignores them); berth-runtime does not set them',
  'kernel-memory-tcp': 'kernel TCP memory limits are deprecated; berth-runtime does not set them from the command line (use --resources with memory.kernelTCP)',
  'l3-cache-schema': 'Intel RDT is not supported by berth-runtime',
  'mem-bw-schema': 'Intel RDT is not supported by berth-runtime',
};

/** linux.resources from the flags, as runc's update builds them. */
export function resourcesFromFlags(flags: FlagValues): LinuxResources {
  for (const [flag, why] of Object.entries(REFUSED)) {
    if (str(flags, flag) !== undefined) throw unsupported('update_flag_unsupported', `update: --${flag}: ${why}`);
  }
  const r: Record<string, Record<string, unknown>> = {};
  for (const [flag, section, field, parse] of NUMERIC) {
    const text = str(flags, flag);
    if (text === undefined) continue;
    let value: number;
    try {
      value = parse(text);
    } catch (err) {
      throw invalidArgument('invalid_flag', `update: invalid value for --${flag}: "${text}": ${describeError(err)}`);
    }
    (r[section] ??= {})[field] = value;
  }
  for (const [flag, field] of [['cpuset-cpus', 'cpus'], ['cpuset-mems', 'mems']] as const) {
    const text = str(flags, flag);
    if (text !== undefined && text !== '') (r['cpu'] ??= {})[field] = text;
  }
  return r;
}

async function readResources(source: string): Promise<LinuxResources> {
  const where = source === '-' ? 'update: --resources (standard input)' : `update: --resources ${source}`;
  let text: string;
  try {
    text = source === '-' ? await readStdin() : await readFile(source, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw notFound('resources_not_found', `${where}: no such file`);
    throw err;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalidArgument('update_resources_invalid', `${where}: not valid JSON: ${describeError(err)}`);
  }
  return parseResources(doc, where);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const flag = <N extends string>(name: N, help: string, value = 'VALUE'): FlagSpec & { name: N } => ({ name, type: 'string', value, help });

export default defineCommand({
  args: ['ID'],
  flags: [
    { name: 'resources', short: 'r', type: 'string', value: 'FILE', help: 'linux.resources JSON to merge ("-" = standard input); not combined with the other flags' },
    flag('memory', 'memory limit in bytes (64m, 1g, ...; -1 = unlimited)', 'SIZE'),
    flag('memory-reservation', 'memory soft limit in bytes', 'SIZE'),
    flag('memory-swap', 'memory+swap limit in bytes (-1 = unlimited)', 'SIZE'),
    flag('kernel-memory', 'refused: kernel memory limits are deprecated', 'SIZE'),
    flag('kernel-memory-tcp', 'refused: kernel TCP memory limits are deprecated', 'SIZE'),
    flag('cpu-share', 'CPU shares (relative weight)', 'N'),
    flag('cpu-shares', 'same as --cpu-share', 'N'),
    flag('cpu-quota', 'CFS quota in microseconds per period (-1 = none)', 'USEC'),
    flag('cpu-period', 'CFS period in microseconds', 'USEC'),
    flag('cpu-burst', 'CFS burst in microseconds', 'USEC'),
    flag('cpu-rt-runtime', 'realtime runtime in microseconds per period', 'USEC'),
    flag('cpu-rt-period', 'realtime period in microseconds', 'USEC'),
    flag('cpu-idle', '1: SCHED_IDLE for the cgroup, 0: normal', '0|1'),
    flag('cpuset-cpus', 'CPUs to use (0-3,7)', 'LIST'),
    flag('cpuset-mems', 'memory nodes to use', 'LIST'),
    flag('blkio-weight', 'block I/O weight, 10 to 1000', 'N'),
    flag('pids-limit', 'maximum number of processes (-1 = unlimited)', 'N'),
    flag('l3-cache-schema', 'refused: Intel RDT is not supported', 'SCHEMA'),
    flag('mem-bw-schema', 'refused: Intel RDT is not supported', 'SCHEMA'),
  ],
  async run(ctx, input) {
    const [id = ''] = input.args;
    const { flags } = input;
    const source = input.str('resources');
    let request: LinuxResources;
    if (source !== undefined) {
      const others = Object.keys(flags).filter((f) => f !== 'resources');
      if (others.length > 0) throw invalidArgument('invalid_flag', `update: --resources cannot be combined with --${others.join(', --')}`);
      request = await readResources(source);
    } else {
      request = resourcesFromFlags(flags);
    }
    const { changed, warnings } = await update(ctx.runtime, id, request);
    for (const w of warnings) warn(`container "${id}": ${w}`, { id });
    ctx.debug(`update ${id}: ${changed.length > 0 ? `wrote ${changed.join(', ')}` : 'nothing changed'}`);
    return 0;
  },
});
