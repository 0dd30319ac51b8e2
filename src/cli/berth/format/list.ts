/**
 * docker's formatter.Context for lists (ps, stats, volume ls, events): the
 * `table` prefix (a header row and aligned columns), `json` (one JSON
 * object a line), or a custom Go template run once per item; `\t` and
 * `\n` typed as two characters become a tab and a newline. Errors in the
 * template are BerthErrors naming the --format value, with Go's words.
 */
import { describeError, invalidArgument, type BerthError } from '../../../errors.ts';
import { tabwrite } from './tabwriter.ts';
import { HEADER_FUNCS, parseTemplate, TemplateError, type Template } from './template.ts';

/** A template that did not parse or run, named by the flag and its value. */
export function formatError(flag: string, format: string, err: unknown): BerthError {
  const why = describeError(err);
  return invalidArgument('invalid_format', `${flag} ${JSON.stringify(format)}: template parsing error: ${why}`, { details: { flag, value: format }, cause: err });
}

export function parseFormat(flag: string, format: string, source: string = format): Template {
  try {
    return parseTemplate(source);
  } catch (err) {
    if (err instanceof TemplateError) throw formatError(flag, format, err);
    throw err;
  }
}

export const isTable = (format: string): boolean => format.startsWith('table');

/** docker's preFormat: the template text a format stands for. */
function templateText(format: string): string {
  let text = format;
  if (isTable(format)) text = format.slice('table'.length);
  else if (format === 'json') text = '{{json .}}';
  return text.replace(/^ +| +$/g, '').replaceAll('\\t', '\t').replaceAll('\\n', '\n');
}

/**
 * Renders items (each a struct as template.ts models them: fields and
 * methods) with `format` (already resolved from the command's defaults);
 * `header` holds the column names (`{ ID: 'CONTAINER ID', ... }`).
 */
export function renderList(format: string, items: readonly unknown[], header: object, flag = '--format'): string {
  const template = parseFormat(flag, format, templateText(format));
  let rows = '';
  for (const item of items) {
    try {
      rows += `${template.execute(item)}\n`;
    } catch (err) {
      if (err instanceof TemplateError) throw formatError(flag, format, err);
      throw err;
    }
  }
  if (!isTable(format)) return rows;
  // docker ignores errors in the header row and prints what it made of it.
  const head = template.execute(header, { funcs: HEADER_FUNCS, partial: true });
  return tabwrite(`${head}\n${rows}`);
}

/** docker's SubHeaderContext.Label: a header for `{{.Label "com.example.app-name"}}` ("app name"). */
export function headerLabel(name: string): string {
  return (name.split('.').at(-1) ?? '').replace(/[-_]/g, ' ');
}
