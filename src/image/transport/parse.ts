/**
 * Transport names as skopeo spells them: `docker://REF`, `oci:DIR[:REF]`,
 * `oci-archive:FILE[:REF]`, `docker-archive:FILE[:NAME:TAG|@N]`, and the
 * local store as `berth:NAME` (or `containers-storage:NAME`, podman's word
 * for its store), or a bare NAME. As in skopeo, DIR and FILE end at the
 * first ":".
 */
import { invalidArgument } from '../../errors.ts';
import { parseReference, type ImageReference, type ReferenceDefaults } from '../registry/reference.ts';

export type TransportRef =
  | { transport: 'docker'; ref: ImageReference }
  | { transport: 'oci'; path: string; ref?: string }
  | { transport: 'oci-archive'; path: string; ref?: string }
  | { transport: 'docker-archive'; path: string; ref?: string }
  | { transport: 'store'; name: string };

function splitPath(kind: string, rest: string): { path: string; ref?: string } {
  const i = rest.indexOf(':');
  const path = i < 0 ? rest : rest.slice(0, i);
  if (path === '') throw invalidArgument('invalid_transport', `${kind}: no path given`);
  if (i < 0 || i === rest.length - 1) return { path };
  return { path, ref: rest.slice(i + 1) };
}

export function parseTransport(input: string, defaults: ReferenceDefaults = {}): TransportRef {
  if (input.startsWith('docker://')) return { transport: 'docker', ref: parseReference(input.slice('docker://'.length), defaults) };
  for (const kind of ['oci', 'oci-archive', 'docker-archive'] as const) {
    if (input.startsWith(`${kind}:`)) return { transport: kind, ...splitPath(kind, input.slice(kind.length + 1)) };
  }
  for (const prefix of ['berth:', 'containers-storage:']) {
    if (input.startsWith(prefix)) {
      const name = input.slice(prefix.length);
      if (name === '') throw invalidArgument('invalid_transport', `${input}: no image name`);
      return { transport: 'store', name };
    }
  }
  const other = /^(dir|docker-daemon|sif|tarball):/.exec(input);
  if (other !== null) {
    throw invalidArgument('unsupported_transport', `${input}: transport "${other[1]}:" is not supported (use docker://, oci:, oci-archive:, docker-archive: or berth:)`);
  }
  return { transport: 'store', name: input };
}

export function formatTransport(t: TransportRef): string {
  switch (t.transport) {
    case 'docker':
      return `docker://${t.ref.domain}/${t.ref.path}${t.ref.tag === undefined ? '' : `:${t.ref.tag}`}${t.ref.digest === undefined ? '' : `@${t.ref.digest}`}`;
    case 'store':
      return `berth:${t.name}`;
    default:
      return `${t.transport}:${t.path}${t.ref === undefined ? '' : `:${t.ref}`}`;
  }
}
