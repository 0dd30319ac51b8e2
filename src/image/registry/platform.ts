/**
 * Platforms ("os/arch[/variant]") and choosing one manifest from an index,
 * with the host's platform as the default, as podman and containerd do.
 */
import { invalidArgument, notFound } from '../../errors.ts';
import type { Descriptor, Platform } from '../../oci/image-spec.ts';

const NODE_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };

export function hostPlatform(): Platform {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  const p: Platform = { os: 'linux', architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  if (architecture === 'arm') {
    const v = (process.config.variables as Record<string, unknown>)['arm_version'];
    p.variant = `v${typeof v === 'string' || typeof v === 'number' ? v : '7'}`;
  }
  return p;
}

export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  const [os, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || os === undefined || architecture === undefined || os === '' || architecture === '' || variant === '') {
    throw invalidArgument('invalid_platform', `platform "${s}": want os/arch[/variant]`);
  }
  const p: Platform = { os, architecture };
  if (variant !== undefined) p.variant = variant;
  return p;
}

export function formatPlatform(p: Platform): string {
  return p.variant === undefined ? `${p.os}/${p.architecture}` : `${p.os}/${p.architecture}/${p.variant}`;
}

/** arm64's default variant is v8: an entry without a variant is a v8 one. */
function normalVariant(p: Platform): string | undefined {
  return p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);
}

function variantMatches(want: Platform, have: Platform): boolean {
  return want.variant === undefined || normalVariant(want) === normalVariant(have);
}

export function platformMatches(want: Platform, have: Platform): boolean {
  return want.os === have.os && want.architecture === have.architecture && variantMatches(want, have);
}

/** The index entry for a platform; the one with an exact variant wins over one without. */
export function selectManifest(manifests: Descriptor[], want: Platform, what: string): Descriptor {
  const candidates = manifests.filter((m) => m.platform !== undefined && platformMatches(want, m.platform));
  const exact = candidates.find((m) => m.platform?.variant === want.variant);
  const chosen = exact ?? candidates[0];
  if (chosen === undefined) {
    const offered = manifests.map((m) => (m.platform === undefined ? '?' : formatPlatform(m.platform))).join(', ');
    throw notFound('platform_not_found', `${what}: no manifest for platform ${formatPlatform(want)} (offers ${offered || 'none'})`);
  }
  return chosen;
}
