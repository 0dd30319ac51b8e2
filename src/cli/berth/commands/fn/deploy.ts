/**
 * `berth fn deploy`: the stack file's functions (or one from --image and
 * --name) to the gateway, as faas-cli deploys them: with --update (the
 * default) a `PUT /system/functions` first and a `POST` when the gateway
 * answers 404; with --replace a `DELETE` first, then a `POST`. The command
 * line's --env, --label, --annotation, --secret go over the file's.
 */
import { invalidArgument, isBerthError } from '../../../../errors.ts';
import { deploymentBody, type DeployOverrides, type FunctionDeploymentBody } from '../../../../faas/stack/deployment.ts';
import type { StackFunction } from '../../../../faas/stack/parse.ts';
import type { Input } from '../../../framework/flags.ts';
import { defineCommand, type CommandContext } from '../../context.ts';
import type { GatewayClient } from './gateway.ts';
import { clientFor, GATEWAY_FLAG, loadStack, NAMESPACE_FLAG, nsQuery, STACK_FLAGS } from './options.ts';

export const DEPLOY_FLAGS = [
  { name: 'image', type: 'string', value: 'IMAGE', help: 'Image to deploy (without a stack file, with --name)' },
  { name: 'name', type: 'string', value: 'NAME', help: 'Name of the deployed function (without a stack file)' },
  { name: 'fprocess', type: 'string', value: 'PROCESS', help: 'Fprocess to be run by the watchdog (without a stack file)' },
  { name: 'env', short: 'e', type: 'list', value: 'KEY=VALUE', help: 'Set one or more environment variables' },
  { name: 'label', short: 'l', type: 'list', value: 'KEY=VALUE', help: 'Set one or more labels' },
  { name: 'annotation', type: 'list', value: 'KEY=VALUE', help: 'Set one or more annotations' },
  { name: 'secret', type: 'list', value: 'NAME', help: 'Give the function access to a secret' },
  { name: 'readonly', type: 'bool', help: 'Force a read-only root filesystem' },
  { name: 'replace', type: 'bool', help: 'Remove an existing function before deploying it again' },
  { name: 'update', type: 'bool', help: 'Update an existing function in place (default true; --update=false to refuse one that exists)' },
  { name: 'network', type: 'string', value: 'NAME', help: 'Accepted and ignored, as OpenFaaS ignores it' },
  GATEWAY_FLAG,
  NAMESPACE_FLAG,
  ...STACK_FLAGS,
] as const;

type DeployFlag = (typeof DEPLOY_FLAGS)[number]['name'];

/** `KEY=VALUE` flags as a map, as faas-cli's parseMap takes them (an empty key or value is refused). */
export function parseKeyValues(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of values) {
    const v = raw.trim();
    const eq = v.indexOf('=');
    if (eq < 0) throw invalidArgument('fn_flag_invalid', `--${flag} ${JSON.stringify(raw)}: not KEY=VALUE`);
    if (eq === 0) throw invalidArgument('fn_flag_invalid', `--${flag} ${JSON.stringify(raw)}: empty ${flag} name`);
    if (eq === v.length - 1) throw invalidArgument('fn_flag_invalid', `--${flag} ${JSON.stringify(raw)}: empty ${flag} value`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

export function overridesFrom(input: Input<DeployFlag>): DeployOverrides {
  const namespace = input.str('namespace');
  return {
    env: parseKeyValues(input.list('env'), 'env'),
    labels: parseKeyValues(input.list('label'), 'label'),
    annotations: parseKeyValues(input.list('annotation'), 'annotation'),
    secrets: input.list('secret'),
    readOnly: input.bool('readonly'),
    ...(namespace === undefined || namespace === '' ? {} : { namespace }),
  };
}

async function removeIfThere(client: GatewayClient, body: FunctionDeploymentBody): Promise<void> {
  try {
    await client.ok('DELETE', '/system/functions', `function "${body.service}": remove`, { json: { functionName: body.service, ...(body.namespace === undefined ? {} : { namespace: body.namespace }) }, query: nsQuery(body.namespace) });
  } catch (err) {
    if (!isBerthError(err, 'fn_gateway_not_found')) throw err;
  }
}

/** Deploys one function; prints what faas-cli prints. */
export async function deployOne(ctx: CommandContext, client: GatewayClient, body: FunctionDeploymentBody, o: { replace: boolean; update: boolean }): Promise<void> {
  ctx.out(`Deploying: ${body.service}.\n`);
  const what = `function "${body.service}": deploy`;
  if (o.replace) await removeIfThere(client, body);
  let r = o.update && !o.replace ? await client.request('PUT', '/system/functions', { json: body }) : undefined;
  if (r === undefined || r.status === 404) {
    await r?.text();
    r = await client.request('POST', '/system/functions', { json: body });
  }
  const text = await r.text();
  if (r.status < 200 || r.status > 299) {
    const { gatewayError } = await import('./gateway.ts');
    throw gatewayError(r.status, text, what);
  }
  ctx.out(`Deployed. ${r.status} ${r.statusText}.\nURL: ${client.url}/function/${body.service}${body.namespace === undefined ? '' : `.${body.namespace}`}\n\n`);
}

/** The functions a stack file (after --filter/--regex) deploys, with the command line's overrides. */
export async function deployStack(ctx: CommandContext, client: GatewayClient, fns: readonly StackFunction[], input: Input<DeployFlag>): Promise<void> {
  const replace = input.bool('replace');
  const update = input.maybeBool('update') !== false;
  if (replace && input.maybeBool('update') === true) throw invalidArgument('fn_flag_invalid', 'cannot specify --update and --replace at the same time');
  const overrides = overridesFrom(input);
  for (const fn of fns) await deployOne(ctx, client, deploymentBody(fn, overrides), { replace, update });
}

export default defineCommand({
  args: [],
  flags: DEPLOY_FLAGS,
  description: 'Deploys the functions of the stack file (-f, or stack.yml here), or one function from --image and --name.',
  async run(ctx, input) {
    const image = input.str('image');
    if (image !== undefined) {
      const name = input.str('name');
      if (name === undefined || name === '') throw invalidArgument('fn_flag_invalid', 'please provide a --name for your function as it will be deployed');
      const fprocess = input.str('fprocess');
      const fn: StackFunction = {
        name, image, environment: {}, secrets: [], labels: {}, annotations: {}, readOnlyRootFilesystem: false, skipBuild: true, buildArgs: {},
        ...(fprocess === undefined ? {} : { fprocess }),
      };
      await deployStack(ctx, clientFor(ctx, input, undefined), [fn], input);
      return 0;
    }
    const stack = loadStack(input);
    if (stack === undefined) throw invalidArgument('fn_flag_invalid', 'no stack file (give -f FILE, have stack.yml here, or deploy one function with --image and --name)');
    await deployStack(ctx, clientFor(ctx, input, stack), stack.functions, input);
    return 0;
  },
});
