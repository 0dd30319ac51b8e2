/**
 * `berth network create|ls|inspect|rm|connect|disconnect|prune`, as
 * docker's, through berthd's `/networks` routes: the daemon checks and
 * decides, these only read the command line and print as docker does.
 */
import { parseLabels } from '../../../engine/spec/labels.ts';
import { ErrorKind, invalidArgument, isBerthError } from '../../../errors.ts';
import type { FlagSpec } from '../../framework/flags.ts';
import { defineCommand, type CommandContext } from '../context.ts';
import { filtersParam, parseFilters } from '../format/filters.ts';
import { renderNetworks, type NetworkSummary } from '../format/network.ts';
import { inspectEach } from './inspect-each.ts';
import { removeEach } from './remove-each.ts';

const FORMAT_HELP = "Format output: 'table' (the default), 'table TEMPLATE', 'json', or a Go TEMPLATE";

export const NETWORK_CREATE_FLAGS = [
  { name: 'driver', short: 'd', type: 'string', value: 'string', help: 'Driver to manage the Network (default "bridge", the only one)' },
  { name: 'subnet', type: 'list', value: 'strings', help: 'Subnet in CIDR format that represents a network segment' },
  { name: 'gateway', type: 'list', value: 'strings', help: 'IPv4 Gateway for the master subnet' },
  { name: 'ip-range', type: 'list', value: 'strings', help: 'Allocate container ip from a sub-range' },
  { name: 'internal', type: 'bool', help: 'Restrict external access to the network' },
  { name: 'label', type: 'list', value: 'list', help: 'Set metadata on a network' },
  { name: 'opt', short: 'o', type: 'list', value: 'map', help: 'Set driver specific options (com.docker.network.bridge.name, com.docker.network.driver.mtu)' },
] as const satisfies readonly FlagSpec[];

export const NETWORK_LS_FLAGS = [
  { name: 'filter', short: 'f', type: 'list', value: 'filter', help: 'Provide filter values (e.g. "driver=bridge")' },
  { name: 'format', type: 'string', value: 'string', help: FORMAT_HELP },
  { name: 'no-trunc', type: 'bool', help: 'Do not truncate the output' },
  { name: 'quiet', short: 'q', type: 'bool', help: 'Only display network IDs' },
] as const satisfies readonly FlagSpec[];

export const NETWORK_INSPECT_FLAGS = [
  { name: 'format', short: 'f', type: 'string', value: 'string', help: "Format output: 'json', or a Go TEMPLATE" },
  { name: 'verbose', short: 'v', type: 'bool', help: 'Verbose output for diagnostics (the same for local networks)' },
] as const satisfies readonly FlagSpec[];

export const NETWORK_RM_FLAGS = [{ name: 'force', short: 'f', type: 'bool', help: 'Do not error if the network does not exist' }] as const satisfies readonly FlagSpec[];

export const NETWORK_CONNECT_FLAGS = [
  { name: 'alias', type: 'list', value: 'strings', help: 'Add network-scoped alias for the container' },
  { name: 'ip', type: 'string', value: 'string', help: 'IPv4 address (e.g., "172.30.100.104")' },
] as const satisfies readonly FlagSpec[];

export const NETWORK_DISCONNECT_FLAGS = [{ name: 'force', short: 'f', type: 'bool', help: 'Force the container to disconnect from a network' }] as const satisfies readonly FlagSpec[];

export const NETWORK_PRUNE_FLAGS = [
  { name: 'filter', type: 'list', value: 'filter', help: 'Provide filter values (e.g. "until=<timestamp>")' },
  { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
] as const satisfies readonly FlagSpec[];

/** One value of a flag docker takes as a list per subnet; berth's networks have one subnet. */
function single(values: readonly string[], flag: string): string | undefined {
  if (values.length > 1) throw invalidArgument('network_field_unsupported', `--${flag}: ${values.length} given, a network here has one IPv4 subnet`, { details: { flag: `--${flag}` } });
  return values[0];
}

export const create = defineCommand({
  args: ['NETWORK'],
  flags: NETWORK_CREATE_FLAGS,
  async run(ctx, input) {
    const subnet = single(input.list('subnet'), 'subnet');
    const gateway = single(input.list('gateway'), 'gateway');
    const ipRange = single(input.list('ip-range'), 'ip-range');
    if (subnet === undefined && (gateway !== undefined || ipRange !== undefined)) {
      throw invalidArgument('network_subnet_invalid', `--${gateway !== undefined ? 'gateway' : 'ip-range'}: every ip-range or gateway must have a corresponding subnet`);
    }
    const body = {
      Name: input.args[0],
      Driver: input.str('driver') ?? 'bridge',
      Internal: input.bool('internal'),
      IPAM: { Driver: 'default', Config: subnet === undefined ? [] : [{ Subnet: subnet, ...(gateway === undefined ? {} : { Gateway: gateway }), ...(ipRange === undefined ? {} : { IPRange: ipRange }) }] },
      Options: parseLabels(input.list('opt')),
      Labels: parseLabels(input.list('label')),
    };
    const client = await ctx.daemon();
    const r = (await client.json('POST', '/networks/create', { body })) as { Id: string; Warning?: string };
    if (r.Warning !== undefined && r.Warning !== '') ctx.stderr.write(`${r.Warning}\n`);
    ctx.out(`${r.Id}\n`);
    return 0;
  },
});

export const ls = defineCommand({
  args: [],
  flags: NETWORK_LS_FLAGS,
  async run(ctx, input) {
    const filters = parseFilters(input.list('filter'), 'network ls');
    const client = await ctx.daemon();
    const list = (await client.json('GET', '/networks', { query: { filters: filtersParam(filters) } })) as NetworkSummary[];
    ctx.out(renderNetworks(list, { format: input.str('format'), quiet: input.bool('quiet'), noTrunc: input.bool('no-trunc') }));
    return 0;
  },
});

export const inspect = defineCommand({
  args: ['NETWORK...'],
  flags: NETWORK_INSPECT_FLAGS,
  async run(ctx, input) {
    const client = await ctx.daemon();
    return inspectEach(ctx, input.args, (name) => client.json('GET', `/networks/${encodeURIComponent(name)}`), input.str('format'));
  },
});

export const rm = defineCommand({
  args: ['NETWORK...'],
  flags: NETWORK_RM_FLAGS,
  async run(ctx, input) {
    const client = await ctx.daemon();
    // -f: a network that is not there is not an error.
    const missing = (err: unknown): boolean => input.bool('force') && isBerthError(err) && err.kind === ErrorKind.NotFound;
    return removeEach(ctx, input.args, (name) => client.json('DELETE', `/networks/${encodeURIComponent(name)}`), missing);
  },
});

export const connect = defineCommand({
  args: ['NETWORK', 'CONTAINER'],
  flags: NETWORK_CONNECT_FLAGS,
  async run(ctx, input) {
    const [network, container] = input.args as [string, string];
    const ip = input.str('ip');
    const body = { Container: container, EndpointConfig: { Aliases: input.list('alias'), ...(ip === undefined ? {} : { IPAMConfig: { IPv4Address: ip } }) } };
    const client = await ctx.daemon();
    await client.json('POST', `/networks/${encodeURIComponent(network)}/connect`, { body });
    return 0;
  },
});

export const disconnect = defineCommand({
  args: ['NETWORK', 'CONTAINER'],
  flags: NETWORK_DISCONNECT_FLAGS,
  async run(ctx, input) {
    const [network, container] = input.args as [string, string];
    const client = await ctx.daemon();
    await client.json('POST', `/networks/${encodeURIComponent(network)}/disconnect`, { body: { Container: container, Force: input.bool('force') } });
    return 0;
  },
});

const PRUNE_WARNING = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ';

/** docker's PromptForConfirmation: only "y" or "Y" goes on; end of input is a no. */
async function confirm(ctx: CommandContext, prompt: string): Promise<boolean> {
  ctx.out(prompt);
  // Loaded by prune alone, not by every network command.
  const rl = process.getBuiltinModule('node:readline').createInterface({ input: process.stdin, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return answer.trim().toLowerCase() === 'y';
  } finally {
    rl.close();
  }
}

export const prune = defineCommand({
  args: [],
  flags: NETWORK_PRUNE_FLAGS,
  async run(ctx, input) {
    const filters = parseFilters(input.list('filter'), 'network prune');
    if (!input.bool('force') && !(await confirm(ctx, PRUNE_WARNING))) return 0;
    const client = await ctx.daemon();
    const r = (await client.json('POST', '/networks/prune', { query: { filters: filtersParam(filters) } })) as { NetworksDeleted: string[] | null };
    const deleted = r.NetworksDeleted ?? [];
    ctx.out(`${deleted.length > 0 ? `Deleted Networks:\n${deleted.map((d) => `${d}\n`).join('')}` : ''}\n`);
    return 0;
  },
});
