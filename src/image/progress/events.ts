/**
 * Progress of long image operations as plain events: the libraries emit
 * them, the command line renders them (bars on a terminal, lines otherwise,
 * nothing with --quiet). A sink must be cheap; renderers throttle drawing.
 */
export type BlobKind = 'config' | 'layer' | 'manifest';

export type ProgressEvent =
  | { type: 'resolved'; source: string; manifestDigest: string; layers: number; bytes: number }
  | { type: 'blob-start'; digest: string; kind: BlobKind; size: number }
  | { type: 'blob-progress'; digest: string; bytes: number }
  | { type: 'blob-skip'; digest: string; kind: BlobKind; size: number; reason: 'exists' | 'mounted' }
  | { type: 'blob-done'; digest: string; kind: BlobKind }
  | { type: 'layer-applied'; digest: string; index: number }
  | { type: 'retry'; what: string; attempt: number; message: string }
  | { type: 'manifest-written'; digest: string; destination: string };

export type ProgressSink = (event: ProgressEvent) => void;

export const noProgress: ProgressSink = () => undefined;
