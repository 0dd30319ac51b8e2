/**
 * How a failure reaches whoever asked: the exit code of a command, the HTTP
 * status of the Docker Engine API, the gRPC status of CRI. Decided here
 * only, from the error's kind (src/errors.ts) and, where a protocol needs
 * finer grain, its code (src/error-codes.ts); handlers never choose a
 * status themselves. Anything that is not a BerthError is a bug: exit 1,
 * HTTP 500, gRPC INTERNAL.
 */
import type { ErrorCode } from './error-codes.ts';
import { BerthError, ErrorKind } from './errors.ts';

/** runc's convention: 1 for a failure, 2 for a command line that makes no sense. */
const EXIT_CODES: Record<ErrorKind, number> = {
  [ErrorKind.NotFound]: 1,
  [ErrorKind.AlreadyExists]: 1,
  [ErrorKind.InvalidArgument]: 2,
  [ErrorKind.FailedPrecondition]: 1,
  [ErrorKind.Unavailable]: 1,
  [ErrorKind.PermissionDenied]: 1,
  [ErrorKind.Unsupported]: 1,
  [ErrorKind.Internal]: 1,
};

/** The statuses dockerd answers with: a conflict (a running container, a name in use) is 409. */
const HTTP_STATUS: Record<ErrorKind, number> = {
  [ErrorKind.NotFound]: 404,
  [ErrorKind.AlreadyExists]: 409,
  [ErrorKind.InvalidArgument]: 400,
  [ErrorKind.FailedPrecondition]: 409,
  [ErrorKind.Unavailable]: 503,
  [ErrorKind.PermissionDenied]: 403,
  [ErrorKind.Unsupported]: 501,
  [ErrorKind.Internal]: 500,
};

/**
 * Codes whose HTTP status is not their kind's. dockerd tells credentials
 * refused (401, the client may log in and retry) from an operation
 * forbidden (403); berth's one kind, permission_denied, covers both.
 */
const HTTP_STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  registry_unauthorized: 401,
  api_body_too_large: 413,
  faas_async_body_too_large: 413,
  // dockerd forbids (403) removing a network in use or a pre-defined one, and a pool that overlaps another.
  network_in_use: 403,
  network_predefined: 403,
  network_subnet_overlap: 403,
  network_pools_exhausted: 403,
};

/** gRPC status codes (grpc/status.proto), as CRI clients (crictl, the kubelet) read them. */
export const GrpcStatus = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

const GRPC_STATUS: Record<ErrorKind, GrpcStatus> = {
  [ErrorKind.NotFound]: GrpcStatus.NOT_FOUND,
  [ErrorKind.AlreadyExists]: GrpcStatus.ALREADY_EXISTS,
  [ErrorKind.InvalidArgument]: GrpcStatus.INVALID_ARGUMENT,
  [ErrorKind.FailedPrecondition]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorKind.Unavailable]: GrpcStatus.UNAVAILABLE,
  [ErrorKind.PermissionDenied]: GrpcStatus.PERMISSION_DENIED,
  [ErrorKind.Unsupported]: GrpcStatus.UNIMPLEMENTED,
  [ErrorKind.Internal]: GrpcStatus.INTERNAL,
};

/** Exit code for a command-line failure. */
export function exitCodeFor(err: unknown): number {
  return err instanceof BerthError ? EXIT_CODES[err.kind] : 1;
}

/** HTTP status for a Docker Engine API answer. */
export function httpStatusFor(err: unknown): number {
  if (!(err instanceof BerthError)) return 500;
  return HTTP_STATUS_BY_CODE[err.code] ?? HTTP_STATUS[err.kind];
}

/** gRPC status for a CRI answer. */
export function grpcStatusFor(err: unknown): GrpcStatus {
  return err instanceof BerthError ? GRPC_STATUS[err.kind] : GrpcStatus.INTERNAL;
}
