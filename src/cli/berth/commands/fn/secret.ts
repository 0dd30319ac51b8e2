/**
 * `berth fn secret create|update|list|remove`, faas-cli's, through
 * `/system/secrets` (OpenFaaS's Secret: `{name, namespace?, value}` for
 * text, `{name, rawValue}` (base64) for a file's bytes as they are).
 * create and update read --from-literal, --from-file or standard input;
 * a literal or stdin value is trimmed, as faas-cli trims it.
 */
import { readFileSync } from 'node:fs';
import { errnoCode, internal, invalidArgument } from '../../../../errors.ts';
import { defineCommand, type CommandContext } from '../../context.ts';
import type { Command } from '../../../framework/command.ts';
import type { Input } from '../../../framework/flags.ts';
import { clientFor, GATEWAY_FLAG, NAMESPACE_FLAG } from './options.ts';

/** Kubernetes' DNS-1123 subdomain, as faas-cli checks a secret's name. */
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkName(name: string): string {
  if (!SECRET_NAME.test(name)) {
    throw invalidArgument('fn_flag_invalid', `secret name ${JSON.stringify(name)}: must start and end with an alphanumeric character and can only contain lower-case alphanumeric characters, '-' or '.'`);
  }
  return name;
}

const VALUE_FLAGS = [
  { name: 'from-literal', type: 'string', value: 'VALUE', help: 'Value of the secret' },
  { name: 'from-file', type: 'string', value: 'FILE', help: 'Path to the secret file (its bytes as they are)' },
  GATEWAY_FLAG,
  NAMESPACE_FLAG,
] as const;

async function secretBody(ctx: CommandContext, name: string, input: Input<(typeof VALUE_FLAGS)[number]['name']>): Promise<Record<string, string>> {
  const literal = input.str('from-literal');
  const file = input.str('from-file');
  if (literal !== undefined && file !== undefined) throw invalidArgument('fn_flag_invalid', 'please provide the secret using only one option from --from-literal, --from-file and STDIN');
  const namespace = input.str('namespace');
  const base = { name, ...(namespace === undefined || namespace === '' ? {} : { namespace }) };
  if (file !== undefined) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw invalidArgument('fn_flag_invalid', `--from-file ${file}: cannot be read (${errnoCode(err) ?? String(err)})`);
    }
    if (bytes.length === 0) throw invalidArgument('fn_flag_invalid', `--from-file ${file}: empty`);
    return { ...base, rawValue: bytes.toString('base64') };
  }
  let value = literal;
  if (value === undefined) {
    if (process.stdin.isTTY) ctx.stderr.write('Reading from STDIN - hit (Control + D) to stop.\n');
    const chunks: Buffer[] = [];
    for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
    value = Buffer.concat(chunks).toString('utf8');
  }
  value = value.trim();
  if (value === '') throw invalidArgument('fn_flag_invalid', 'must provide a non empty secret via --from-literal, --from-file or STDIN');
  return { ...base, value };
}

/** create (POST, 201) and update (PUT, 200) take the same input. */
function writeSecret(method: 'POST' | 'PUT', verb: 'Creating' | 'Updating', done: 'Created' | 'Updated'): Command<CommandContext> {
  return defineCommand({
    args: ['NAME'],
    flags: VALUE_FLAGS,
    async run(ctx, input) {
      const name = checkName(input.args[0] ?? '');
      const body = await secretBody(ctx, name, input);
      ctx.out(`${verb} secret: ${name}\n`);
      const r = await clientFor(ctx, input, undefined).ok(method, '/system/secrets', `secret "${name}": ${verb.toLowerCase().replace(/ing$/, 'e')}`, { json: body });
      ctx.out(`${done}: ${r.status}\n`);
      return 0;
    },
  });
}

export const create = writeSecret('POST', 'Creating', 'Created');
export const update = writeSecret('PUT', 'Updating', 'Updated');

export const list = defineCommand({
  args: [],
  flags: [{ name: 'json', type: 'bool', help: 'Print the gateway\'s answer as JSON' }, GATEWAY_FLAG, NAMESPACE_FLAG],
  async run(ctx, input) {
    const namespace = input.str('namespace');
    const raw = await clientFor(ctx, input, undefined).json('GET', '/system/secrets', 'list secrets', { query: { namespace } });
    if (!Array.isArray(raw)) throw internal('fn_gateway_error', 'list secrets: the gateway\'s answer is not a list');
    if (input.bool('json')) {
      ctx.out(`${JSON.stringify(raw, null, 2)}\n`);
      return 0;
    }
    const names = raw.map((s: unknown) => {
      const n = typeof s === 'object' && s !== null ? (s as { name?: unknown }).name : undefined;
      return typeof n === 'string' ? n : '';
    });
    ctx.out(names.length === 0 ? 'No secrets found.\n' : `\nNAME\n${names.map((n) => `${n}\n`).join('')}\n`);
    return 0;
  },
});

export const remove = defineCommand({
  args: ['NAME'],
  flags: [GATEWAY_FLAG, NAMESPACE_FLAG],
  async run(ctx, input) {
    const name = checkName(input.args[0] ?? '');
    const namespace = input.str('namespace');
    await clientFor(ctx, input, undefined).ok('DELETE', '/system/secrets', `secret "${name}": remove`, { json: { name, ...(namespace === undefined || namespace === '' ? {} : { namespace }) } });
    ctx.out('Removed.. OK.\n');
    return 0;
  },
});
