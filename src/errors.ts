/**
 * The one error type of berth. Every failure carries a stable `code`
 * (machine-readable, never reworded) and a `kind` from a small set; the
 * edges translate kinds to exit codes, HTTP statuses and gRPC statuses, each
 * in one place. Messages name the thing: `container "web": not found`.
 */

import type { ErrorCode } from './error-codes.ts';

export const ErrorKind = {
  NotFound: 'not_found',
  AlreadyExists: 'already_exists',
  InvalidArgument: 'invalid_argument',
  FailedPrecondition: 'failed_precondition',
  Unavailable: 'unavailable',
  PermissionDenied: 'permission_denied',
  Unsupported: 'unsupported',
  Internal: 'internal',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

export interface BerthErrorOptions {
  cause?: unknown;
  /** Structured details for logs and `--log-format json` (paths, errno, step). */
  details?: Record<string, unknown>;
}

export class BerthError extends Error {
  override readonly name = 'BerthError';
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly details: Record<string, unknown>;

  constructor(kind: ErrorKind, code: ErrorCode, message: string, options: BerthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = code;
    this.details = options.details ?? {};
  }
}

export const notFound = (code: ErrorCode, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.NotFound, code, message, options);
export const alreadyExists = (code: ErrorCode, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.AlreadyExists, code, message, options);
export const invalidArgument = (code: ErrorCode, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.InvalidArgument, code, message, options);
export const failedPrecondition = (code: ErrorCode, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.FailedPrecondition, code, message, options);
export const unavailable = (code: ErrorCode, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.Unavailable, code, message, options);
export const unsupported = (code: ErrorCode, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.Unsupported, code, message, options);
export const internal = (code: ErrorCode, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.Internal, code, message, options);

export function isBerthError(err: unknown, code?: string): err is BerthError {
  return err instanceof BerthError && (code === undefined || err.code === code);
}

/** Node's system errors carry `code` ("ENOENT"); this narrows to them. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const { code } = err;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * Failures of the cleanup that ran after an error (removing what was half
 * made, closing, unmounting), kept beside that error so they are reported
 * with it instead of swallowed, while the error itself still travels up
 * unchanged (its code, kind and errno are what callers test).
 */
const cleanupFailures = new WeakMap<object, unknown[]>();

/** Records that cleaning up after `err` failed too; returns `err` for `throw withCleanupError(err, e)`. */
export function withCleanupError<T>(err: T, cleanupErr: unknown): T {
  if (typeof err === 'object' && err !== null) {
    const list = cleanupFailures.get(err) ?? [];
    list.push(cleanupErr);
    cleanupFailures.set(err, list);
  }
  return err;
}

export function cleanupErrorsOf(err: unknown): readonly unknown[] {
  return typeof err === 'object' && err !== null ? (cleanupFailures.get(err) ?? []) : [];
}

/**
 * Runs a cleanup after `err` was thrown; a failure of the cleanup is kept
 * beside `err` (see withCleanupError), never instead of it.
 */
export async function cleanupAfter(err: unknown, cleanup: () => unknown): Promise<void> {
  try {
    await cleanup();
  } catch (cleanupErr) {
    withCleanupError(err, cleanupErr);
  }
}

/** cleanupAfter for a synchronous cleanup. */
export function cleanupAfterSync(err: unknown, cleanup: () => void): void {
  try {
    cleanup();
  } catch (cleanupErr) {
    withCleanupError(err, cleanupErr);
  }
}

/**
 * The one text of anything thrown, for people: the message, then each cause
 * whose text the message does not already hold, then the failures of the
 * cleanup that followed (`...; cleanup also failed: ...`).
 */
export function describeError(err: unknown): string {
  let text = '';
  const cleanups: unknown[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    const m = cur instanceof Error ? cur.message : typeof cur === 'string' ? cur : JSON.stringify(cur);
    if (!text.includes(m)) text = text === '' ? m : `${text}: ${m}`;
    if (cur instanceof AggregateError) text += ` (${cur.errors.map(describeError).join('; ')})`;
    cleanups.push(...cleanupErrorsOf(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  for (const c of cleanups) text += `; cleanup also failed: ${describeError(c)}`;
  return text;
}
