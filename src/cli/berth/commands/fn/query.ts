/**
 * `berth fn list` and `berth fn describe NAME`: `GET /system/functions`
 * and `GET /system/function/NAME`, printed as faas-cli prints them, or as
 * JSON (`--json`: the gateway's FunctionStatus; `--format json`: one a
 * line) or through a Go template (`--format`, with the Go field names of
 * faas-provider's FunctionStatus: .Name .Image .Replicas ...).
 */
import { internal } from '../../../../errors.ts';
import { defineCommand } from '../../context.ts';
import { renderList } from '../../format/list.ts';
import { marshalContext, TYPE_NAME } from '../../format/template.ts';
import { clientFor, GATEWAY_FLAG, loadStack, NAMESPACE_FLAG, nsQuery, STACK_FLAGS } from './options.ts';

export interface FunctionStatus {
  name: string;
  image: string;
  namespace?: string;
  envProcess?: string;
  envVars?: Record<string, string> | null;
  secrets?: string[] | null;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  limits?: { memory?: string; cpu?: string } | null;
  requests?: { memory?: string; cpu?: string } | null;
  readOnlyRootFilesystem?: boolean;
  invocationCount?: number;
  replicas?: number;
  availableReplicas?: number;
  createdAt?: string;
}

function asStatus(v: unknown, what: string): FunctionStatus {
  if (typeof v !== 'object' || v === null || typeof (v as { name?: unknown }).name !== 'string') throw internal('fn_gateway_error', `${what}: the gateway's answer is not a FunctionStatus`);
  return v as FunctionStatus;
}

/** A FunctionStatus under faas-provider's Go field names, for --format templates. */
function statusContext(s: FunctionStatus): Record<string | symbol, unknown> {
  return {
    [TYPE_NAME]: 'types.FunctionStatus',
    Name: s.name,
    Image: s.image,
    Namespace: s.namespace ?? '',
    EnvProcess: s.envProcess ?? '',
    EnvVars: s.envVars ?? {},
    Secrets: s.secrets ?? [],
    Labels: s.labels ?? {},
    Annotations: s.annotations ?? {},
    InvocationCount: s.invocationCount ?? 0,
    Replicas: s.replicas ?? 0,
    AvailableReplicas: s.availableReplicas ?? 0,
    CreatedAt: s.createdAt ?? '',
    MarshalJSON: marshalContext,
  };
}

const HEADER = { Name: 'NAME', Image: 'IMAGE', Namespace: 'NAMESPACE', InvocationCount: 'INVOCATIONS', Replicas: 'REPLICAS', AvailableReplicas: 'AVAILABLE', CreatedAt: 'CREATED' };

export const FORMAT_FLAGS = [
  { name: 'json', type: 'bool', help: 'Print the gateway\'s answer as JSON' },
  { name: 'format', type: 'string', value: 'string', help: "Format output: 'json' (one object a line), 'table TEMPLATE', or a Go TEMPLATE (.Name .Image .Replicas .InvocationCount ...)" },
] as const;

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

export const list = defineCommand({
  args: [],
  flags: [
    { name: 'verbose', short: 'v', type: 'bool', help: 'Verbose output for the function list (with the image)' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only print the functions\' names' },
    { name: 'sort', type: 'string', value: 'name|invocations', help: 'Sort the functions by "name" (the default) or "invocations"' },
    ...FORMAT_FLAGS,
    GATEWAY_FLAG,
    NAMESPACE_FLAG,
    ...STACK_FLAGS,
  ],
  async run(ctx, input) {
    const client = clientFor(ctx, input, loadStack(input));
    const raw = await client.json('GET', '/system/functions', 'list functions', { query: nsQuery(input.str('namespace')) });
    if (!Array.isArray(raw)) throw internal('fn_gateway_error', 'list functions: the gateway\'s answer is not a list');
    const fns = raw.map((f) => asStatus(f, 'list functions'));
    const by = input.str('sort') ?? 'name';
    fns.sort(by === 'invocations' ? (a, b) => (b.invocationCount ?? 0) - (a.invocationCount ?? 0) : (a, b) => a.name.localeCompare(b.name));
    if (input.bool('json')) {
      ctx.out(json(fns));
      return 0;
    }
    const format = input.str('format');
    if (format !== undefined) {
      ctx.out(renderList(format === 'json' ? '{{json .}}' : format, fns.map(statusContext), HEADER));
      return 0;
    }
    if (input.bool('quiet')) {
      ctx.out(fns.map((f) => `${f.name}\n`).join(''));
      return 0;
    }
    const count = (n: number | undefined): string => String(Math.trunc(n ?? 0));
    if (input.bool('verbose')) {
      const image = (s: string): string => (s.length > 40 ? `${s.slice(0, 38)}..` : s);
      ctx.out(`${'Function'.padEnd(30)}\t${'Image'.padEnd(40)}\t${'Invocations'.padEnd(15)}\t${'Replicas'.padEnd(5)}\n`);
      for (const f of fns) ctx.out(`${f.name.padEnd(30)}\t${image(f.image).padEnd(40)}\t${count(f.invocationCount).padEnd(15)}\t${count(f.replicas).padEnd(5)}\n`);
    } else {
      ctx.out(`${'Function'.padEnd(30)}\t${'Invocations'.padEnd(15)}\t${'Replicas'.padEnd(5)}\n`);
      for (const f of fns) ctx.out(`${f.name.padEnd(30)}\t${count(f.invocationCount).padEnd(15)}\t${count(f.replicas).padEnd(5)}\n`);
    }
    return 0;
  },
});

function mapLines(m: Record<string, string> | null | undefined, sep: string): string[] {
  return Object.entries(m ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}${sep}${v}`);
}

function resourceLine(r: { memory?: string; cpu?: string } | null | undefined): string[] {
  if (r === null || r === undefined) return [];
  return [[r.memory === undefined ? '' : `memory: ${r.memory}`, r.cpu === undefined ? '' : `cpu: ${r.cpu}`].filter((x) => x !== '').join(', ')].filter((x) => x !== '');
}

/** faas-cli's describe: "Label:" and its value in aligned columns, a multi-valued field on lines of its own. */
export function renderDescription(s: FunctionStatus, gateway: string): string {
  const suffix = s.namespace === undefined || s.namespace === '' || s.namespace === 'openfaas-fn' ? '' : `.${s.namespace}`;
  const rows: [string, string[]][] = [
    ['Name:', [s.name]],
    ['Status:', [(s.availableReplicas ?? 0) > 0 ? 'Ready' : 'Not Ready']],
    ['Replicas:', [String(s.replicas ?? 0)]],
    ['Available replicas:', [String(s.availableReplicas ?? 0)]],
    ['Invocations:', [String(s.invocationCount ?? 0)]],
    ['Image:', [s.image]],
    ['Function process:', [s.envProcess ?? '']],
    ['URL:', [`${gateway}/function/${s.name}${suffix}`]],
    ['Async URL:', [`${gateway}/async-function/${s.name}${suffix}`]],
    ['Labels:', mapLines(s.labels, ' : ')],
    ['Annotations:', mapLines(s.annotations, ' : ')],
    ['Environment:', mapLines(s.envVars, '=')],
    ['Secrets:', s.secrets ?? []],
    ['Requests:', resourceLine(s.requests)],
    ['Limits:', resourceLine(s.limits)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  let out = '';
  // A field without values (no labels, no limits) is left out.
  for (const [k, values] of rows) values.forEach((v, i) => (out += `${(i === 0 ? k : '').padEnd(width)} ${v}\n`));
  return out;
}

export const describe = defineCommand({
  args: ['NAME'],
  flags: [...FORMAT_FLAGS, GATEWAY_FLAG, NAMESPACE_FLAG, ...STACK_FLAGS],
  async run(ctx, input) {
    const [name = ''] = input.args;
    const client = clientFor(ctx, input, loadStack(input));
    const what = `function "${name}"`;
    const s = asStatus(await client.json('GET', `/system/function/${encodeURIComponent(name)}`, what, { query: nsQuery(input.str('namespace')) }), what);
    const format = input.str('format');
    if (input.bool('json') || format === 'json') ctx.out(json(s));
    else if (format !== undefined) ctx.out(renderList(format, [statusContext(s)], HEADER));
    else ctx.out(renderDescription(s, client.url));
    return 0;
  },
});
