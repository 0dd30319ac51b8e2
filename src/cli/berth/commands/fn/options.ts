/**
 * The flags every `berth fn` verb shares with faas-cli (`-g/--gateway`,
 * `-f/--yaml`, `--filter`, `--regex`, `--envsubst`, `-n/--namespace`), the
 * stack file they select (`-f`, else stack.yml or stack.yaml in the
 * current directory, as faas-cli looks), and the gateway client they lead
 * to.
 */
import { existsSync } from 'node:fs';
import type { Input } from '../../../framework/flags.ts';
import { readStack, type Stack } from '../../../../faas/stack/parse.ts';
import type { CommandContext } from '../../context.ts';
import { gatewayClient, resolveGateway, type GatewayClient } from './gateway.ts';

export const GATEWAY_FLAG = { name: 'gateway', short: 'g', type: 'string', value: 'URL', help: 'Gateway URL starting with http(s):// (default: the stack file\'s, OPENFAAS_URL, or http://127.0.0.1:8080)' } as const;
export const NAMESPACE_FLAG = { name: 'namespace', short: 'n', type: 'string', value: 'NAME', help: 'Namespace of the function' } as const;

export const STACK_FLAGS = [
  { name: 'yaml', short: 'f', type: 'string', value: 'FILE', help: 'Path to YAML file describing function(s) (default stack.yml or stack.yaml when present)' },
  { name: 'regex', type: 'string', value: 'REGEX', help: 'Regex to match with function names in YAML file' },
  { name: 'filter', type: 'string', value: 'WILDCARD', help: 'Wildcard to match with function names in YAML file' },
  { name: 'envsubst', type: 'bool', help: 'Substitute environment variables in the stack file (default true; --envsubst=false to skip)' },
] as const;

/** The stack file the flags name, or the default one when present; undefined when neither. */
export function stackFile(input: Input): string | undefined {
  const given = input.str('yaml');
  if (given !== undefined && given !== '') return given;
  return ['stack.yml', 'stack.yaml'].find((f) => existsSync(f));
}

export function loadStack(input: Input, env: NodeJS.ProcessEnv = process.env): Stack | undefined {
  const file = stackFile(input);
  if (file === undefined) return undefined;
  const regex = input.str('regex');
  const filter = input.str('filter');
  return readStack(file, {
    env,
    envsubst: input.maybeBool('envsubst') !== false,
    ...(regex === undefined ? {} : { regex }),
    ...(filter === undefined ? {} : { filter }),
  });
}

export function gatewayUrl(input: Input, stack: Stack | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolveGateway(input.str('gateway'), stack?.provider.gateway, env);
}

export function clientFor(ctx: CommandContext, input: Input, stack: Stack | undefined, env: NodeJS.ProcessEnv = process.env): GatewayClient {
  return gatewayClient(gatewayUrl(input, stack, env), ctx.globals.root, env);
}

/** `?namespace=` when one is given. */
export function nsQuery(namespace: string | undefined): Record<string, string | undefined> {
  return { namespace: namespace === '' ? undefined : namespace };
}
