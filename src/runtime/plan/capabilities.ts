/** Capability names of a spec → the bit masks the executor hands to capset(2). */
import type { Capabilities } from '../../oci/runtime-spec.ts';
import { CAPABILITIES } from '../linux/constants.ts';

export interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export function capabilityMask(names: readonly string[] | undefined): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const bit = CAPABILITIES[name];
    if (bit !== undefined) mask |= 1n << BigInt(bit);
  }
  return mask;
}

/**
 * The kernel raises an ambient capability only when it is both permitted and
 * inheritable; runc asks for each and goes on where the kernel says no (runc
 * 1.1's own `spec` lists ambient without inheritable). The ambient mask keeps
 * what the kernel allows, so the executor never asks for the rest.
 */
export function capabilityMasks(caps: Capabilities): CapabilityMasks {
  const permitted = capabilityMask(caps.permitted);
  const inheritable = capabilityMask(caps.inheritable);
  return {
    bounding: capabilityMask(caps.bounding),
    effective: capabilityMask(caps.effective),
    permitted,
    inheritable,
    ambient: capabilityMask(caps.ambient) & permitted & inheritable,
  };
}

export function capabilityNames(mask: bigint): string[] {
  return Object.entries(CAPABILITIES)
    .filter(([, bit]) => (mask >> BigInt(bit)) & 1n)
    .map(([name]) => name);
}
