/**
 * What an unpack may do and how far it may go. Defaults suit root unpacking
 * a trusted registry's image; the limits stop decompression bombs.
 */

export interface UnpackLimits {
  /** Uncompressed bytes of one layer's tar stream (headers included). */
  maxLayerBytes: number;
  /** Entries in one layer. */
  maxLayerEntries: number;
}

export const DEFAULT_LIMITS: UnpackLimits = {
  maxLayerBytes: 64 * 1024 ** 3,
  maxLayerEntries: 4_000_000,
};

export type WhiteoutMode =
  /** Whiteouts delete what lower layers wrote into the same tree (one rootfs, like umoci). */
  | 'apply'
  /** Whiteouts become overlayfs whiteouts, for a layer unpacked into its own upper dir. */
  | 'overlay';

export interface UnpackOptions {
  whiteouts?: WhiteoutMode;
  /** The xattr prefix of overlay whiteouts: 'trusted.overlay.' (root) or 'user.overlay.' (userxattr mounts). */
  overlayXattrPrefix?: string;
  /**
   * Character and block devices: create them, refuse the layer, or leave an
   * empty file. Default: create as root, placeholder otherwise (mknod needs
   * CAP_MKNOD; umoci's rootless unpack does the same).
   */
  devices?: 'create' | 'refuse' | 'placeholder';
  /** Set owners from the archive (default: when running as root). */
  chown?: boolean;
  limits?: Partial<UnpackLimits>;
  /**
   * With overlay whiteouts: the lower layers' directories, nearest first. A
   * parent the layer does not list is created with the metadata of the
   * lower directory it will cover (as containerd does), not the defaults.
   */
  lowerDirs?: string[];
  /** Check the uncompressed stream against this digest (the config's diff_id). */
  diffId?: string;
}

export interface ResolvedOptions {
  whiteouts: WhiteoutMode;
  overlayXattrPrefix: string;
  devices: 'create' | 'refuse' | 'placeholder';
  chown: boolean;
  limits: UnpackLimits;
  lowerDirs: string[];
}

export function resolveOptions(o: UnpackOptions = {}): ResolvedOptions {
  return {
    whiteouts: o.whiteouts ?? 'apply',
    overlayXattrPrefix: o.overlayXattrPrefix ?? 'trusted.overlay.',
    devices: o.devices ?? (process.geteuid?.() === 0 ? 'create' : 'placeholder'),
    chown: o.chown ?? process.geteuid?.() === 0,
    limits: { ...DEFAULT_LIMITS, ...o.limits },
    lowerDirs: o.lowerDirs ?? [],
  };
}
