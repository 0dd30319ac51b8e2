/**
 * The one error type of berth. Every failure carries a stable `code`
 * (machine-readable, never reworded) and a `kind` from a small set; the
 * edges translate kinds to exit codes, HTTP statuses and gRPC statuses, each
 * in one place. Messages name the thing: `container "web": not found`.
 */

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
  readonly code: string;
  readonly kind: ErrorKind;
  readonly details: Record<string, unknown>;

  constructor(kind: ErrorKind, code: string, message: string, options: BerthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = code;
    this.details = options.details ?? {};
  }
}

export const notFound = (code: string, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.NotFound, code, message, options);
export const alreadyExists = (code: string, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.AlreadyExists, code, message, options);
export const invalidArgument = (code: string, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.InvalidArgument, code, message, options);
export const failedPrecondition = (code: string, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.FailedPrecondition, code, message, options);
export const unavailable = (code: string, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.Unavailable, code, message, options);
export const unsupported = (code: string, message: string, options?: BerthErrorOptions): BerthError =>
  new BerthError(ErrorKind.Unsupported, code, message, options);
export const internal = (code: string, message: string, options?: BerthErrorOptions): BerthError =>
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

/** The message of anything thrown, with its chain of causes. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    if (cur instanceof Error) {
      // A wrapper that already quotes its cause's message ("layer x: entry y: " + reason) is not followed by it again.
      const last = parts[parts.length - 1];
      if (!parts.includes(cur.message) && !(last !== undefined && last.endsWith(`: ${cur.message}`))) parts.push(cur.message);
      cur = cur.cause;
    } else {
      parts.push(typeof cur === 'string' ? cur : JSON.stringify(cur));
      break;
    }
  }
  return parts.join(': ');
}

/** Exit code for a command-line failure: one place for the mapping. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof BerthError)) return 1;
  switch (err.kind) {
    case ErrorKind.InvalidArgument:
      return 2;
    default:
      return 1;
  }
}
