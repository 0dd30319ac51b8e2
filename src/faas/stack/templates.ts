/**
 * Function templates, laid out as faas-cli's are: a directory per language
 * with `template.yml` (language, welcome_message, handler_folder), a
 * Dockerfile and what it copies, and `function/` (or handler_folder), the
 * skeleton `new` copies into the function's handler directory. Found, for
 * a language L, in this order: a `configuration.templates` entry named L
 * whose source is a local directory (the template itself, or a directory
 * holding L/ or template/L/), `template/L` beside the stack file (where
 * faas-cli's `template pull` puts them), then berth's own in templates/fn/
 * (BERTH_FN_TEMPLATES overrides where). Remote sources are not fetched:
 * berth makes no network requests of its own to build a function.
 *
 * `dockerfile` is the handler directory's own Dockerfile; every other
 * language builds in build/NAME/ beside the stack file: the template with
 * the handler copied over its function folder (faas-cli's build context).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../../errors.ts';
import { buildDir } from '../../paths.ts';
import type { StackFunction, TemplateSource } from './parse.ts';

export interface Template {
  lang: string;
  dir: string;
  handlerFolder: string;
  welcome?: string;
}

/** berth's own templates (sh, node, dockerfile). */
export function builtinTemplatesDir(env: NodeJS.ProcessEnv = process.env): string {
  const v = env['BERTH_FN_TEMPLATES'];
  return v !== undefined && v !== '' ? v : join(buildDir(), '..', 'templates', 'fn');
}

function readTemplate(lang: string, dir: string): Template {
  const file = join(dir, 'template.yml');
  const doc = parseDocument(readFileSync(file, 'utf8'), { schema: 'failsafe' });
  const v = doc.toJS() as unknown;
  const get = (k: string): string | undefined => {
    const x = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
    return typeof x === 'string' && x !== '' ? x : undefined;
  };
  if (doc.errors.length > 0) throw invalidArgument('fn_template_invalid', `template ${JSON.stringify(lang)}: ${file}: not valid YAML`);
  const handlerFolder = get('handler_folder') ?? 'function';
  const welcome = get('welcome_message');
  return { lang, dir, handlerFolder, ...(welcome === undefined ? {} : { welcome }) };
}

const isTemplate = (dir: string): boolean => existsSync(join(dir, 'template.yml'));

/** The template for `lang`, or a not_found error listing where it was looked for. */
export function findTemplate(lang: string, o: { stackDir: string; sources?: readonly TemplateSource[]; env?: NodeJS.ProcessEnv }): Template {
  const looked: string[] = [];
  for (const s of o.sources ?? []) {
    if (s.name !== lang) continue;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s.source) || s.source.startsWith('git@')) {
      throw failedPrecondition('fn_template_remote', `configuration.templates: ${JSON.stringify(lang)}: source ${s.source}: berth does not fetch templates; clone it and give the local directory as source`);
    }
    const base = isAbsolute(s.source) ? s.source : resolve(o.stackDir, s.source === '' ? 'template' : s.source);
    for (const dir of [base, join(base, lang), join(base, 'template', lang)]) {
      looked.push(dir);
      if (isTemplate(dir)) return readTemplate(lang, dir);
    }
  }
  for (const dir of [join(o.stackDir, 'template', lang), join(builtinTemplatesDir(o.env), lang)]) {
    looked.push(dir);
    if (isTemplate(dir)) return readTemplate(lang, dir);
  }
  throw notFound('fn_template_not_found', `template ${JSON.stringify(lang)}: not found (looked in ${looked.join(', ')})`);
}

/** The languages berth brings. */
export const BUILTIN_LANGS = ['dockerfile', 'node', 'sh'];

/** `new`: the template's handler skeleton into a new directory (which must not exist). */
export function copyHandlerSkeleton(t: Template, handlerDir: string): void {
  if (existsSync(handlerDir)) throw alreadyExists('fn_new_exists', `folder: ${handlerDir} already exists`);
  const from = join(t.dir, t.handlerFolder);
  if (!existsSync(from)) throw invalidArgument('fn_template_invalid', `template ${JSON.stringify(t.lang)}: ${from}: missing (its handler_folder)`);
  cpSync(from, handlerDir, { recursive: true, errorOnExist: true, force: false });
}

export interface BuildContext {
  context: string;
  containerfile: string;
}

/** Where a function builds: its handler directory (dockerfile) or build/NAME/ made from its template. */
export function prepareBuildContext(fn: StackFunction, o: { stackDir: string; sources?: readonly TemplateSource[]; env?: NodeJS.ProcessEnv }): BuildContext {
  const lang = fn.lang ?? 'dockerfile';
  if (fn.handlerPath === undefined) throw invalidArgument('fn_stack_invalid', `function ${JSON.stringify(fn.name)}: handler: required to build it (a directory)`);
  if (!existsSync(fn.handlerPath)) throw notFound('fn_handler_not_found', `function ${JSON.stringify(fn.name)}: handler ${fn.handlerPath}: not found`);
  if (lang === 'dockerfile') return { context: fn.handlerPath, containerfile: join(fn.handlerPath, 'Dockerfile') };
  const t = findTemplate(lang, o);
  const context = join(o.stackDir, 'build', fn.name);
  rmSync(context, { recursive: true, force: true });
  mkdirSync(join(o.stackDir, 'build'), { recursive: true });
  cpSync(t.dir, context, { recursive: true, filter: (src) => src !== join(t.dir, 'template.yml') });
  const into = join(context, t.handlerFolder);
  rmSync(into, { recursive: true, force: true });
  cpSync(fn.handlerPath, into, { recursive: true });
  return { context, containerfile: join(context, 'Dockerfile') };
}
