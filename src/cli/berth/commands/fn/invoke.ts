/**
 * `berth fn invoke NAME`: standard input as the body of a request to
 * `/function/NAME` (`/async-function/NAME` with --async), with faas-cli's
 * --content-type (text/plain), --header/-H KEY=VALUE, --method/-m (POST),
 * --query KEY=VALUE; the function's answer on stdout, byte for byte. No
 * credentials are sent: functions do their own auth, as with faas-cli.
 */
import { invalidArgument } from '../../../../errors.ts';
import { defineCommand, type CommandContext } from '../../context.ts';
import { gatewayError } from './gateway.ts';
import { clientFor, GATEWAY_FLAG, loadStack, NAMESPACE_FLAG, STACK_FLAGS } from './options.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

async function readStdin(ctx: CommandContext): Promise<Buffer> {
  if (process.stdin.isTTY) ctx.stderr.write('Reading from STDIN - hit (Control + D) to stop.\n');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** faas-cli's buildQueryString: `?k=v&k2=v2`, each given as KEY=VALUE. */
export function queryString(values: readonly string[]): string {
  for (const v of values) {
    if (!v.includes('=')) throw invalidArgument('fn_flag_invalid', `--query ${JSON.stringify(v)}: must take the form of key=value (= not found)`);
    if (v.endsWith('=')) throw invalidArgument('fn_flag_invalid', `--query ${JSON.stringify(v)}: must take the form of key=value (empty value given, or value ends in =)`);
  }
  return values.length === 0 ? '' : `?${values.join('&')}`;
}

export function headerMap(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) throw invalidArgument('fn_flag_invalid', `--header ${JSON.stringify(v)}: must take the form of key=value`);
    if (eq === 0) throw invalidArgument('fn_flag_invalid', `--header ${JSON.stringify(v)}: must take the form of key=value (empty key given)`);
    if (eq === v.length - 1) throw invalidArgument('fn_flag_invalid', `--header ${JSON.stringify(v)}: must take the form of key=value (empty value given)`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

export default defineCommand({
  args: ['NAME'],
  flags: [
    { name: 'content-type', type: 'string', value: 'TYPE', help: 'The Content-Type header of the request (default text/plain)' },
    { name: 'header', short: 'H', type: 'list', value: 'KEY=VALUE', help: 'A header of the request' },
    { name: 'method', short: 'm', type: 'string', value: 'METHOD', help: 'The HTTP method: GET, POST (the default), PUT, PATCH or DELETE' },
    { name: 'query', type: 'list', value: 'KEY=VALUE', help: 'A query-string parameter' },
    { name: 'async', short: 'a', type: 'bool', help: 'Invoke the function asynchronously (202, queued)' },
    GATEWAY_FLAG,
    NAMESPACE_FLAG,
    ...STACK_FLAGS,
  ],
  async run(ctx, input) {
    const [name = ''] = input.args;
    const method = input.str('method') ?? 'POST';
    if (!METHODS.includes(method)) throw invalidArgument('fn_flag_invalid', `--method ${JSON.stringify(method)}: must take one of these values (${METHODS.join('/')})`);
    const qs = queryString(input.list('query'));
    const headers = { 'Content-Type': input.str('content-type') ?? 'text/plain', ...headerMap(input.list('header')) };
    const client = clientFor(ctx, input, loadStack(input));
    const body = await readStdin(ctx);
    const ns = input.str('namespace');
    const path = `/${input.bool('async') ? 'async-function' : 'function'}/${encodeURIComponent(name)}${ns === undefined || ns === '' ? '' : `.${ns}`}${qs}`;
    const r = await client.request(method, path, { headers, auth: false, ...(method === 'GET' && body.length === 0 ? {} : { body }) });
    const answer = Buffer.from(await r.arrayBuffer());
    if (r.status === 202 && input.bool('async')) {
      const id = r.headers.get('x-call-id');
      ctx.stderr.write(`Function submitted asynchronously${id === null ? '' : ` (X-Call-Id: ${id})`}.\n`);
      return 0;
    }
    if (r.status < 200 || r.status > 299) throw gatewayError(r.status, answer.toString('utf8'), `function "${name}"`);
    if (ctx.stdout.stream !== undefined) ctx.stdout.stream.write(answer);
    else ctx.out(answer.toString('utf8'));
    return 0;
  },
});
