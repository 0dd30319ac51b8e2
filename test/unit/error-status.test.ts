import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitCodeFor, GrpcStatus, grpcStatusFor, httpStatusFor } from '../../src/error-status.ts';
import { BerthError, ErrorKind, alreadyExists, failedPrecondition, internal, invalidArgument, notFound, unavailable, unsupported } from '../../src/errors.ts';

test('invalid arguments exit with 2, other failures with 1', () => {
  assert.equal(exitCodeFor(invalidArgument('invalid_flag', 'flag --x: unknown')), 2);
  assert.equal(exitCodeFor(notFound('container_not_found', 'container "x": not found')), 1);
  assert.equal(exitCodeFor(new Error('plain')), 1);
});

test('each kind has the HTTP status dockerd answers with', () => {
  assert.equal(httpStatusFor(notFound('image_not_found', 'image "x": not found')), 404);
  assert.equal(httpStatusFor(alreadyExists('container_exists', 'container "x": exists')), 409);
  assert.equal(httpStatusFor(failedPrecondition('not_running', 'container "x": not running')), 409);
  assert.equal(httpStatusFor(invalidArgument('invalid_reference', 'reference "": empty')), 400);
  assert.equal(httpStatusFor(unsupported('unsupported_transport', 'transport "x:"')), 501);
  assert.equal(httpStatusFor(unavailable('registry_unreachable', 'registry: refused')), 503);
  assert.equal(httpStatusFor(internal('executor_protocol', 'bad message')), 500);
  assert.equal(httpStatusFor(new TypeError('a bug')), 500);
});

test('refused registry credentials are 401, other refusals 403', () => {
  assert.equal(httpStatusFor(new BerthError(ErrorKind.PermissionDenied, 'registry_unauthorized', 'registry: credentials refused')), 401);
  assert.equal(httpStatusFor(new BerthError(ErrorKind.PermissionDenied, 'cgroup_io_denied', 'cgroup: write: EACCES')), 403);
});

test('each kind has its gRPC status for CRI', () => {
  assert.equal(grpcStatusFor(notFound('container_not_found', 'x')), GrpcStatus.NOT_FOUND);
  assert.equal(grpcStatusFor(alreadyExists('container_exists', 'x')), GrpcStatus.ALREADY_EXISTS);
  assert.equal(grpcStatusFor(invalidArgument('invalid_id', 'x')), GrpcStatus.INVALID_ARGUMENT);
  assert.equal(grpcStatusFor(failedPrecondition('not_running', 'x')), GrpcStatus.FAILED_PRECONDITION);
  assert.equal(grpcStatusFor(unavailable('registry_unreachable', 'x')), GrpcStatus.UNAVAILABLE);
  assert.equal(grpcStatusFor(unsupported('unsupported_transport', 'x')), GrpcStatus.UNIMPLEMENTED);
  assert.equal(grpcStatusFor(new BerthError(ErrorKind.PermissionDenied, 'registry_unauthorized', 'x')), GrpcStatus.PERMISSION_DENIED);
  assert.equal(grpcStatusFor(internal('executor_protocol', 'x')), GrpcStatus.INTERNAL);
  assert.equal(grpcStatusFor('thrown text'), GrpcStatus.INTERNAL);
});
