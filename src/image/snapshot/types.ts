/** What a snapshotter hands out: mount descriptions, as containerd's do (the caller mounts). */
export interface MountSpec {
  type: string;
  source: string;
  options: string[];
}

export type SnapshotKind = 'committed' | 'active' | 'view';

export interface SnapshotInfo {
  key: string;
  kind: SnapshotKind;
  /** The committed snapshot below this one (a chain ID for layers). */
  parent?: string;
  /** Directory name under snapshots/. */
  id: string;
  created: string;
  labels?: Record<string, string>;
}

export type SnapshotDriver = 'overlay' | 'copy';
