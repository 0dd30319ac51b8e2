/**
 * `berth fn new NAME --lang LANG`: the template's handler skeleton into
 * NAME/ (or --handler DIR) and the function into a stack file: a new
 * NAME.yml, or appended to the file --append (or -f) names, as faas-cli
 * does. An existing folder, an existing NAME.yml or a function already in
 * the file is refused before anything is written; if the stack file
 * cannot be written the new folder is removed again.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { alreadyExists, invalidArgument } from '../../../../errors.ts';
import { readStack, type StackResources, type TemplateSource } from '../../../../faas/stack/parse.ts';
import { BUILTIN_LANGS, builtinTemplatesDir, copyHandlerSkeleton, findTemplate } from '../../../../faas/stack/templates.ts';
import type { Input } from '../../../framework/flags.ts';
import { defineCommand, type CommandContext } from '../../context.ts';
import { DEFAULT_GATEWAY, resolveGateway } from './gateway.ts';
import { GATEWAY_FLAG } from './options.ts';

const FUNCTION_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function resourcesOf(memory: string | undefined, cpu: string | undefined): StackResources | undefined {
  if (memory === undefined && cpu === undefined) return undefined;
  return { ...(cpu === undefined ? {} : { cpu }), ...(memory === undefined ? {} : { memory }) };
}

function availableLangs(): string[] {
  const local = existsSync('template') ? readdirSync('template', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [];
  const builtin = existsSync(builtinTemplatesDir()) ? readdirSync(builtinTemplatesDir()) : BUILTIN_LANGS;
  return [...new Set([...builtin, ...local])].sort();
}

const NEW_FLAGS = [
  { name: 'lang', type: 'string', value: 'LANG', help: `Language or template to use (${BUILTIN_LANGS.join(', ')}, or one of configuration.templates or ./template)` },
  { name: 'list', type: 'bool', help: 'List available languages' },
  { name: 'append', short: 'a', type: 'string', value: 'FILE', help: 'Append to an existing stack file' },
  { name: 'yaml', short: 'f', type: 'string', value: 'FILE', help: 'The stack file to write, or to append to when it exists (default NAME.yml)' },
  { name: 'handler', type: 'string', value: 'DIR', help: 'Directory the handler will be written to (default NAME)' },
  { name: 'prefix', short: 'p', type: 'string', value: 'PREFIX', help: 'Set a prefix for the function image (default OPENFAAS_PREFIX)' },
  { name: 'memory-limit', type: 'string', value: 'QUANTITY', help: 'Set a limit for the memory' },
  { name: 'cpu-limit', type: 'string', value: 'QUANTITY', help: 'Set a limit for the CPU' },
  { name: 'memory-request', type: 'string', value: 'QUANTITY', help: 'Set a request for the memory' },
  { name: 'cpu-request', type: 'string', value: 'QUANTITY', help: 'Set a request for the CPU' },
  { name: 'quiet', type: 'bool', help: 'Skip the template\'s notes' },
  GATEWAY_FLAG,
] as const;

function newFunction(ctx: CommandContext, input: Input<(typeof NEW_FLAGS)[number]['name']>): number {
  if (input.bool('list')) {
    ctx.out(`Languages available as templates:\n${availableLangs().map((l) => `- ${l}\n`).join('')}`);
    return 0;
  }
  const [name] = input.args;
  const lang = input.str('lang');
  if (lang === undefined || lang === '') throw invalidArgument('fn_flag_invalid', 'you must supply a function language with the --lang flag');
  if (name === undefined) throw invalidArgument('fn_flag_invalid', 'please provide a name for the function');
  if (!FUNCTION_NAME.test(name) || name.length > 63) throw invalidArgument('fn_flag_invalid', `function name ${JSON.stringify(name)}: can only contain a-z, 0-9 and dashes (at most 63, starting and ending with a letter or digit)`);
  const append = input.str('append');
  if (append !== undefined && !/\.ya?ml$/.test(append)) throw invalidArgument('fn_flag_invalid', `--append ${append}: when appending to a stack the suffix should be .yml or .yaml`);
  if (append !== undefined && !existsSync(append)) throw invalidArgument('fn_flag_invalid', `--append ${append}: unable to find file`);
  const file = append ?? input.str('yaml') ?? `${name}.yml`;
  const appending = existsSync(file);
  if (appending && append === undefined && input.str('yaml') === undefined) throw alreadyExists('fn_new_exists', `file: ${file} already exists (append to it with --append ${file})`);
  let sources: TemplateSource[] = [];
  if (appending) {
    const existing = readStack(file, { envsubst: true });
    if (existing.functions.some((f) => f.name === name)) throw alreadyExists('fn_new_exists', `function ${name} already exists in ${file}: cannot have duplicate function names in the same stack file`);
    sources = existing.templates;
  }
  const stackDir = dirname(resolve(file));
  const template = findTemplate(lang, { stackDir, sources });
  const handlerDir = input.str('handler') ?? name;
  const prefix = (input.str('prefix') ?? process.env['OPENFAAS_PREFIX'] ?? '').trim();
  const fn: Record<string, unknown> = {
    lang,
    handler: `./${relative(stackDir, resolve(handlerDir))}`,
    image: `${prefix === '' ? '' : `${prefix}/`}${name}:latest`,
  };
  const requests = resourcesOf(input.str('memory-request'), input.str('cpu-request'));
  const limits = resourcesOf(input.str('memory-limit'), input.str('cpu-limit'));
  if (requests !== undefined) fn['requests'] = requests;
  if (limits !== undefined) fn['limits'] = limits;

  let text: string;
  if (appending) {
    const doc = parseDocument(readFileSync(file, 'utf8'));
    if (!isMap(doc.get('functions'))) doc.set('functions', doc.createNode({}));
    doc.setIn(['functions', name], doc.createNode(fn));
    text = String(doc);
  } else {
    const gateway = resolveGateway(input.str('gateway') ?? DEFAULT_GATEWAY, undefined);
    const doc = parseDocument('version: 1.0\n');
    doc.set('provider', doc.createNode({ name: 'openfaas', gateway }));
    doc.set('functions', doc.createNode({ [name]: fn }));
    text = String(doc);
  }

  copyHandlerSkeleton(template, handlerDir);
  try {
    writeFileSync(file, text, { mode: 0o644 });
  } catch (err) {
    rmSync(handlerDir, { recursive: true, force: true });
    throw err;
  }
  ctx.out(`Folder: ${handlerDir} created.\nFunction created in folder: ${handlerDir}\nStack file ${appending ? 'updated' : 'written'}: ${file}\n`);
  if (!input.bool('quiet') && template.welcome !== undefined) ctx.out(`\nNotes:\n${template.welcome.trimEnd()}\n`);
  return 0;
}

export default defineCommand({
  args: ['[NAME]'],
  flags: NEW_FLAGS,
  run: (ctx, input) => Promise.resolve(newFunction(ctx, input)),
});
