/**
 * Build errors name the Containerfile, the line and the instruction, as
 * `Containerfile:7: COPY: source "missing.txt" not found in the context`,
 * whatever their kind (a syntax error, a missing source, a RUN that failed).
 */
import { BerthError, ErrorKind, type BerthErrorOptions } from '../../errors.ts';

export interface SourceLocation {
  /** The Containerfile as the user named it. */
  file: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export function where(loc: SourceLocation, keyword?: string): string {
  return keyword === undefined ? `${loc.file}:${loc.line}` : `${loc.file}:${loc.line}: ${keyword}`;
}

export function buildError(
  kind: ErrorKind,
  code: string,
  loc: SourceLocation,
  keyword: string | undefined,
  message: string,
  options: BerthErrorOptions = {},
): BerthError {
  const { cause, ...rest } = options;
  // A cause whose whole text is already in the message would only be printed twice.
  const keep = cause !== undefined && !message.includes(errorText(cause));
  return new BerthError(kind, code, `${where(loc, keyword)}: ${message}`, {
    ...rest,
    ...(keep ? { cause } : {}),
    details: { file: loc.file, line: loc.line, ...(keyword === undefined ? {} : { instruction: keyword }), ...options.details },
  });
}

export const syntaxError = (loc: SourceLocation, keyword: string | undefined, message: string, options?: BerthErrorOptions): BerthError =>
  buildError(ErrorKind.InvalidArgument, 'build_syntax', loc, keyword, message, options);

/** An error's text with its causes, each cause added only when the text does not already hold it. */
export function errorText(err: unknown): string {
  let text = '';
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    const m = cur instanceof Error ? cur.message : typeof cur === 'string' ? cur : JSON.stringify(cur);
    if (!text.includes(m)) text = text === '' ? m : `${text}: ${m}`;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return text;
}
