/**
 * What an unpack may do and how far it may go. The limits stop
 * decompression bombs at a size, not before: lower them for images you do
 * not trust, per call (`limits`) or for every command through the
 * environment (BERTH_MAX_LAYER_BYTES, BERTH_MAX_IMAGE_BYTES).
 */
import { invalidArgument } from '../../errors.ts';

export interface UnpackLimits {
  /** Uncompressed bytes of one layer's tar stream (headers included). */
  maxLayerBytes: number;
  /** Uncompressed bytes of all the layers one call unpacks (an image). */
  maxImageBytes: number;
  /** Entries in one layer. */
  maxLayerEntries: number;
}

export const DEFAULT_LIMITS: UnpackLimits = {
  maxLayerBytes: 64 * 1024 ** 3,
  maxImageBytes: 128 * 1024 ** 3,
  maxLayerEntries: 4_000_000,
};

/** The environment variables that override DEFAULT_LIMITS' byte caps. */
export const LIMIT_VARIABLES = { maxLayerBytes: 'BERTH_MAX_LAYER_BYTES', maxImageBytes: 'BERTH_MAX_IMAGE_BYTES' } as const;

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "1073741824", "512m", "4g", "1t" (binary units, case-insensitive) as bytes. */
export function parseByteSize(text: string, name: string): number {
  const m = /^([0-9]+)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  const n = m === null ? NaN : Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? NaN);
  if (!Number.isSafeInteger(n) || n <= 0) throw invalidArgument('unpack.limit_value', `${name}: "${text}" is not a size in bytes (e.g. 4294967296, 512m, 4g)`);
  return n;
}

/** DEFAULT_LIMITS with the byte caps the environment sets. */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): UnpackLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, variable] of Object.entries(LIMIT_VARIABLES) as [keyof typeof LIMIT_VARIABLES, string][]) {
    const value = env[variable];
    if (value !== undefined && value !== '') limits[key] = parseByteSize(value, variable);
  }
  return limits;
}

export type WhiteoutMode =
  /** Whiteouts delete what lower layers wrote into the same tree (one rootfs, like umoci). */
  | 'apply'
  /** Whiteouts become overlayfs whiteouts, for a layer unpacked into its own upper dir. */
  | 'overlay';

/** Uncompressed bytes unpacked so far by one call over several layers (the image cap counts them). */
export interface ImageTally {
  bytes: number;
}

export interface UnpackOptions {
  whiteouts?: WhiteoutMode;
  /** The xattr prefix of overlay whiteouts: 'trusted.overlay.' (root) or 'user.overlay.' (userxattr mounts). */
  overlayXattrPrefix?: string;
  /**
   * Character and block devices: an empty file with no permissions in the
   * device's place (the default: nothing on the host guards a device node
   * of an unpacked tree or a mounted image), refuse the layer, or create
   * them (needs CAP_MKNOD; only for trees that only containers will see).
   */
  devices?: 'create' | 'refuse' | 'placeholder';
  /** Set owners from the archive (default: when running as root). */
  chown?: boolean;
  /** Caps; what is not given comes from the environment, then DEFAULT_LIMITS. */
  limits?: Partial<UnpackLimits>;
  /**
   * With overlay whiteouts: the lower layers' directories, nearest first. A
   * parent the layer does not list is created with the metadata of the
   * lower directory it will cover (as containerd does), not the defaults.
   */
  lowerDirs?: string[];
  /** Check the uncompressed stream against this digest (the config's diff_id). */
  diffId?: string;
  /** Shared by the layers of one image, so maxImageBytes bounds them together. */
  tally?: ImageTally;
}

export interface ResolvedOptions {
  whiteouts: WhiteoutMode;
  overlayXattrPrefix: string;
  devices: 'create' | 'refuse' | 'placeholder';
  chown: boolean;
  limits: UnpackLimits;
  lowerDirs: string[];
  tally: ImageTally;
}

export function resolveOptions(o: UnpackOptions = {}): ResolvedOptions {
  return {
    whiteouts: o.whiteouts ?? 'apply',
    overlayXattrPrefix: o.overlayXattrPrefix ?? 'trusted.overlay.',
    devices: o.devices ?? 'placeholder',
    chown: o.chown ?? process.geteuid?.() === 0,
    limits: { ...limitsFromEnv(), ...o.limits },
    lowerDirs: o.lowerDirs ?? [],
    tally: o.tally ?? { bytes: 0 },
  };
}
