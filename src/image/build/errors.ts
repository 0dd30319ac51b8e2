/**
 * Build errors name the Containerfile, the line and the instruction, as
 * `Containerfile:7: COPY: source "missing.txt" not found in the context`,
 * whatever their kind (a syntax error, a missing source, a RUN that failed).
 */
import type { ErrorCode } from '../../error-codes.ts';
import { BerthError, describeError, ErrorKind, type BerthErrorOptions } from '../../errors.ts';

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
  code: ErrorCode,
  loc: SourceLocation,
  keyword: string | undefined,
  message: string,
  options: BerthErrorOptions = {},
): BerthError {
  const { cause, ...rest } = options;
  // A cause whose whole text is already in the message would only be printed twice.
  const keep = cause !== undefined && !message.includes(describeError(cause));
  return new BerthError(kind, code, `${where(loc, keyword)}: ${message}`, {
    ...rest,
    ...(keep ? { cause } : {}),
    details: { file: loc.file, line: loc.line, ...(keyword === undefined ? {} : { instruction: keyword }), ...options.details },
  });
}

export const syntaxError = (loc: SourceLocation, keyword: string | undefined, message: string, options?: BerthErrorOptions): BerthError =>
  buildError(ErrorKind.InvalidArgument, 'build_syntax', loc, keyword, message, options);
