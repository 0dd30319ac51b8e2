/**
 * Snapshots (containerd's overlay snapshotter, with a copying fallback),
 * image layers as committed snapshots by chain ID, and image mounts.
 * Snapshotter itself does no system calls; applyImageLayers and the mount
 * functions load src/sys lazily.
 */
export { Snapshotter, type SnapshotterOptions } from './snapshotter.ts';
export { applyImageLayers, type ApplyResult } from './apply-layers.ts';
export { mountImage, unmountImage, listImageMounts, type ImageMount, type MountImageOptions } from './mount-image.ts';
export { chainIds } from './chain-id.ts';
export { detectDriver } from './detect.ts';
export type { MountSpec, SnapshotInfo, SnapshotKind, SnapshotDriver } from './types.ts';
export type { MountRecord } from './metadata.ts';
