/**
 * faas-cli's stack file (`stack.yml`, schema version 1.0): provider, the
 * functions (lang, handler, image, fprocess, environment,
 * environment_file, secrets, labels, annotations, limits, requests,
 * readonly_root_filesystem, ...), configuration.templates. `${VAR}`
 * substitution runs over the text first, as faas-cli's does. Each refusal
 * names the file, the function, the field and the line.
 *
 * YAML is read with the `yaml` package (npm, ISC, no dependencies): YAML
 * 1.2 with anchors, flow collections and block scalars is far more than a
 * hand-written reader should take on, and it gives every node's position,
 * which the errors need. The failsafe schema reads every scalar as a
 * string, as faas-cli's Go structs of strings take them (`max_inflight: 5`,
 * `canary: true` are strings to OpenFaaS too).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { errnoCode, invalidArgument, notFound } from '../../errors.ts';
import { substituteEnvironment } from './envsubst.ts';

export const STACK_VERSIONS = ['1.0'];
export const PROVIDER_NAME = 'openfaas';

export interface StackResources {
  memory?: string;
  cpu?: string;
}

export interface StackFunction {
  name: string;
  lang?: string;
  /** As written, and resolved against the stack file's directory. */
  handler?: string;
  handlerPath?: string;
  image: string;
  fprocess?: string;
  /** environment, then each environment_file over it (files win, as in faas-cli). */
  environment: Record<string, string>;
  secrets: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  limits?: StackResources;
  requests?: StackResources;
  readOnlyRootFilesystem: boolean;
  skipBuild: boolean;
  buildArgs: Record<string, string>;
  namespace?: string;
  constraints?: string[];
}

export interface TemplateSource {
  name: string;
  source: string;
}

export interface Stack {
  /** The file as given, and its directory (handlers, environment files and local templates are relative to it). */
  file: string;
  dir: string;
  version: string;
  provider: { name: string; gateway?: string; network?: string };
  functions: StackFunction[];
  templates: TemplateSource[];
}

export interface ParseOptions {
  env?: NodeJS.ProcessEnv;
  /** faas-cli's --envsubst (default true). */
  envsubst?: boolean;
  /** --regex and --filter (a wildcard with `*`), not both. */
  regex?: string;
  filter?: string;
}

const TOP = ['version', 'provider', 'functions', 'configuration'];
const PROVIDER = ['name', 'gateway', 'network'];
const CONFIGURATION = ['templates', 'copy'];
const FUNCTION = [
  'lang', 'handler', 'image', 'fprocess', 'environment', 'environment_file', 'secrets', 'labels', 'annotations', 'limits', 'requests',
  'readonly_root_filesystem', 'skip_build', 'build_args', 'build_options', 'build_secrets', 'constraints', 'namespace', 'registry_auth', 'platforms',
];
const FUNCTION_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Where errors point: the file, and a node's line. */
class Place {
  readonly file: string;
  private readonly doc: Document;
  private readonly lines: LineCounter;

  constructor(file: string, doc: Document, lines: LineCounter) {
    this.file = file;
    this.doc = doc;
    this.lines = lines;
  }

  /** The line of the deepest part of `path` there is: a map entry's key, or a list item. */
  line(path: readonly (string | number)[]): number | undefined {
    for (let n = path.length; n > 0; n--) {
      const parent = this.doc.getIn(path.slice(0, n - 1), true) as Node | undefined;
      const last = path[n - 1];
      let node: Node | undefined;
      if (isMap(parent)) node = parent.items.find((p) => isScalar(p.key) && p.key.value === last)?.key as Node | undefined;
      else if (isSeq(parent) && typeof last === 'number') node = parent.items[last] as Node | undefined;
      const start = node?.range?.[0];
      if (start !== undefined) return this.lines.linePos(start).line;
    }
    const start = this.doc.contents?.range?.[0];
    return start === undefined ? undefined : this.lines.linePos(start).line;
  }

  fail(path: readonly (string | number)[], why: string): never {
    const line = this.line(path);
    const field = path.join('.');
    throw invalidArgument('fn_stack_invalid', `${this.file}${line === undefined ? '' : `: line ${line}`}: ${field}: ${why}`, { details: { file: this.file, field, ...(line === undefined ? {} : { line }) } });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(p: Place, path: (string | number)[], value: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(value)) if (!known.includes(k)) p.fail([...path, k], `unknown field (known: ${known.join(', ')})`);
}

function str(p: Place, path: (string | number)[], v: unknown): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') p.fail(path, 'not a string');
  return v;
}

function strMap(p: Place, path: (string | number)[], v: unknown): Record<string, string> {
  if (v === undefined || v === '') return {};
  if (!isRecord(v)) p.fail(path, 'not a map of strings (KEY: VALUE lines)');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') p.fail([...path, k], 'not a string');
    out[k] = x;
  }
  return out;
}

function strList(p: Place, path: (string | number)[], v: unknown): string[] {
  if (v === undefined || v === '') return [];
  if (!Array.isArray(v)) p.fail(path, 'not a list of strings');
  return v.map((x, i) => {
    if (typeof x !== 'string' || x === '') p.fail([...path, i], 'not a string');
    return x;
  });
}

function bool(p: Place, path: (string | number)[], v: unknown): boolean {
  if (v === undefined || v === '' || v === 'false') return false;
  if (v === 'true') return true;
  p.fail(path, `${JSON.stringify(v)} is not true or false`);
}

function resources(p: Place, path: (string | number)[], v: unknown): StackResources | undefined {
  if (v === undefined || v === '') return undefined;
  if (!isRecord(v)) p.fail(path, 'not a map with memory and cpu');
  checkKeys(p, path, v, ['memory', 'cpu']);
  const memory = str(p, [...path, 'memory'], v['memory']);
  const cpu = str(p, [...path, 'cpu'], v['cpu']);
  if (memory === undefined && cpu === undefined) return undefined;
  return { ...(memory === undefined ? {} : { memory }), ...(cpu === undefined ? {} : { cpu }) };
}

/** An environment_file: a YAML file with an `environment:` map, relative to the stack file. */
function environmentFile(p: Place, path: (string | number)[], dir: string, file: string, o: ParseOptions): Record<string, string> {
  const full = isAbsolute(file) ? file : resolve(dir, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    p.fail(path, `${full}: cannot be read (${errnoCode(err) ?? String(err)})`);
  }
  const env = parseStackText(text, full, o, (inner: Place, doc: unknown) => {
    if (!isRecord(doc)) inner.fail([], 'not a map with an environment: map');
    checkKeys(inner, [], doc, ['environment']);
    return strMap(inner, ['environment'], doc['environment']);
  });
  return env;
}

function parseFunction(p: Place, name: string, v: unknown, dir: string, o: ParseOptions): StackFunction {
  const path = ['functions', name];
  if (!FUNCTION_NAME.test(name) || name.length > 63) p.fail(path, 'not a function name (lower-case letters, digits and "-", at most 63, starting and ending with a letter or digit)');
  if (!isRecord(v)) p.fail(path, 'not a map of the function\'s fields (lang, handler, image, ...)');
  checkKeys(p, path, v, FUNCTION);
  const image = str(p, [...path, 'image'], v['image']);
  if (image === undefined) p.fail([...path, 'image'], 'an image is required');
  const lang = str(p, [...path, 'lang'], v['lang']);
  const handler = str(p, [...path, 'handler'], v['handler']);
  const environment = strMap(p, [...path, 'environment'], v['environment']);
  const files = strList(p, [...path, 'environment_file'], v['environment_file']);
  files.forEach((f, i) => Object.assign(environment, environmentFile(p, [...path, 'environment_file', i], dir, f, o)));
  const fprocess = str(p, [...path, 'fprocess'], v['fprocess']);
  const namespace = str(p, [...path, 'namespace'], v['namespace']);
  const limits = resources(p, [...path, 'limits'], v['limits']);
  const requests = resources(p, [...path, 'requests'], v['requests']);
  const constraints = v['constraints'] === undefined ? undefined : strList(p, [...path, 'constraints'], v['constraints']);
  return {
    name,
    ...(lang === undefined ? {} : { lang: lang === 'Dockerfile' ? 'dockerfile' : lang }),
    ...(handler === undefined ? {} : { handler, handlerPath: resolve(dir, handler) }),
    image,
    ...(fprocess === undefined ? {} : { fprocess }),
    environment,
    secrets: strList(p, [...path, 'secrets'], v['secrets']),
    labels: strMap(p, [...path, 'labels'], v['labels']),
    annotations: strMap(p, [...path, 'annotations'], v['annotations']),
    ...(limits === undefined ? {} : { limits }),
    ...(requests === undefined ? {} : { requests }),
    readOnlyRootFilesystem: bool(p, [...path, 'readonly_root_filesystem'], v['readonly_root_filesystem']),
    skipBuild: bool(p, [...path, 'skip_build'], v['skip_build']),
    buildArgs: strMap(p, [...path, 'build_args'], v['build_args']),
    ...(namespace === undefined ? {} : { namespace }),
    ...(constraints === undefined ? {} : { constraints }),
  };
}

function parseTemplates(p: Place, v: unknown): TemplateSource[] {
  if (v === undefined || v === '') return [];
  if (!isRecord(v)) p.fail(['configuration'], 'not a map (templates: ...)');
  checkKeys(p, ['configuration'], v, CONFIGURATION);
  const list = v['templates'];
  if (list === undefined || list === '') return [];
  if (!Array.isArray(list)) p.fail(['configuration', 'templates'], 'not a list of {name, source}');
  return list.map((t, i) => {
    const at = ['configuration', 'templates', i];
    if (!isRecord(t)) p.fail(at, 'not a map with name and source');
    checkKeys(p, at, t, ['name', 'source']);
    const name = str(p, [...at, 'name'], t['name']);
    if (name === undefined) p.fail([...at, 'name'], 'a template name is required');
    return { name, source: str(p, [...at, 'source'], t['source']) ?? '' };
  });
}

/** The YAML text as a plain value, syntax errors naming the file and line. */
function parseStackText<T>(raw: string, file: string, o: ParseOptions, read: (p: Place, value: unknown) => T): T {
  const text = o.envsubst === false ? raw : substituteEnvironment(raw, o.env ?? process.env, file);
  const lines = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const at = first.linePos?.[0] ?? lines.linePos(first.pos[0]);
    throw invalidArgument('fn_stack_invalid', `${file}${at === undefined ? '' : `: line ${at.line}`}: not valid YAML: ${first.message.split('\n')[0] ?? ''}`, {
      details: { file, ...(at === undefined ? {} : { line: at.line }) },
    });
  }
  return read(new Place(file, doc, lines), doc.toJS() as unknown);
}

function keep(names: readonly string[], o: ParseOptions): Set<string> | undefined {
  const regex = o.regex ?? '';
  const filter = o.filter ?? '';
  if (regex !== '' && filter !== '') throw invalidArgument('fn_flag_invalid', 'pass in a --regex or a --filter, not both');
  if (regex === '' && filter === '') return undefined;
  let test: (n: string) => boolean;
  if (regex !== '') {
    let re: RegExp;
    try {
      re = new RegExp(regex);
    } catch (err) {
      throw invalidArgument('fn_flag_invalid', `--regex ${JSON.stringify(regex)}: error parsing regexp: ${err instanceof Error ? err.message : String(err)}`);
    }
    test = (n) => re.test(n);
  } else {
    // faas-cli's wildcard (go-glob): "*" matches any run of characters, nothing else is special.
    const re = new RegExp(`^${filter.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    test = (n) => re.test(n);
  }
  const kept = new Set(names.filter(test));
  if (names.length > 0 && kept.size === 0) throw notFound('fn_stack_no_match', 'no functions matching --filter/--regex were found in the YAML file');
  return kept;
}

/** A stack file's text, checked (`file` names it in errors and anchors relative paths). */
export function parseStack(raw: string, file: string, o: ParseOptions = {}): Stack {
  const dir = dirname(resolve(file));
  return parseStackText(raw, file, o, (p: Place, doc: unknown) => {
    if (!isRecord(doc)) p.fail([], 'not a stack file (a map with version, provider and functions)');
    checkKeys(p, [], doc, TOP);
    const version = str(p, ['version'], doc['version']) ?? '1.0';
    if (!STACK_VERSIONS.includes(version)) p.fail(['version'], `[${STACK_VERSIONS.join(', ')}] are the only valid versions for the stack file - found: ${version}`);
    const prov = doc['provider'];
    if (!isRecord(prov)) p.fail(['provider'], `a provider is required (provider: {name: ${PROVIDER_NAME}})`);
    checkKeys(p, ['provider'], prov, PROVIDER);
    const name = str(p, ['provider', 'name'], prov['name']) ?? '';
    if (name !== PROVIDER_NAME) p.fail(['provider', 'name'], `['${PROVIDER_NAME}'] is the only valid "provider.name", but you gave: ${name}`);
    const gateway = str(p, ['provider', 'gateway'], prov['gateway']);
    const network = str(p, ['provider', 'network'], prov['network']);
    const fns = doc['functions'] ?? '';
    if (fns !== '' && !isRecord(fns)) p.fail(['functions'], 'not a map of functions by name');
    const all = fns === '' ? [] : Object.keys(fns);
    const kept = keep(all, o);
    const functions = all.filter((n) => kept === undefined || kept.has(n)).map((n) => parseFunction(p, n, (fns as Record<string, unknown>)[n], dir, o));
    return {
      file,
      dir,
      version,
      provider: { name, ...(gateway === undefined ? {} : { gateway }), ...(network === undefined ? {} : { network }) },
      functions,
      templates: parseTemplates(p, doc['configuration']),
    };
  });
}

/** Reads and checks a stack file. */
export function readStack(file: string, o: ParseOptions = {}): Stack {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw notFound('fn_stack_not_found', `stack file ${file}: not found`);
    throw invalidArgument('fn_stack_invalid', `stack file ${file}: cannot be read (${errnoCode(err) ?? String(err)})`, { cause: err });
  }
  return parseStack(raw, file, o);
}
