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
  return new BerthError(kind, code, `${where(loc, keyword)}: ${message}`, {
    ...options,
    details: { file: loc.file, line: loc.line, ...(keyword === undefined ? {} : { instruction: keyword }), ...options.details },
  });
}

export const syntaxError = (loc: SourceLocation, keyword: string | undefined, message: string, options?: BerthErrorOptions): BerthError =>
  buildError(ErrorKind.InvalidArgument, 'build.syntax', loc, keyword, message, options);
