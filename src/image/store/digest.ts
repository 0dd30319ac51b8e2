/**
 * Content digests ("sha256:<64 hex>"). Only sha256 is accepted: it is what
 * the OCI image spec requires registries to support, and accepting fewer
 * algorithms keeps the blob path a pure function of a validated string.
 */
import { createHash, type Hash } from 'node:crypto';
import { invalidArgument, unsupported } from '../../errors.ts';

const DIGEST_RE = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const SHA256_HEX_RE = /^[a-f0-9]{64}$/;

export interface ParsedDigest {
  algorithm: 'sha256';
  hex: string;
}

/** Validates a digest string; `what` names the input in the error. */
export function parseDigest(digest: string, what = 'digest'): ParsedDigest {
  const m = DIGEST_RE.exec(digest);
  if (m === null) {
    throw invalidArgument('invalid_digest', `${what} "${digest}": not a digest (want sha256:<64 hex>)`);
  }
  const [, algorithm, hex] = m;
  if (algorithm !== 'sha256') {
    throw unsupported('unsupported_digest', `${what} "${digest}": algorithm "${algorithm}" is not supported (only sha256)`);
  }
  if (hex === undefined || !SHA256_HEX_RE.test(hex)) {
    throw invalidArgument('invalid_digest', `${what} "${digest}": sha256 wants 64 lowercase hex characters`);
  }
  return { algorithm, hex };
}

export function isDigest(s: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(s);
}

export function sha256Hasher(): Hash {
  return createHash('sha256');
}

export function digestOf(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** "sha256:0123456789ab" — what listings show. */
export function shortDigest(digest: string, length = 12): string {
  const i = digest.indexOf(':');
  return digest.slice(i + 1, i + 1 + length);
}
