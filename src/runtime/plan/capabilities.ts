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

export function capabilityMasks(caps: Capabilities): CapabilityMasks {
  return {
    bounding: capabilityMask(caps.bounding),
    effective: capabilityMask(caps.effective),
    permitted: capabilityMask(caps.permitted),
    inheritable: capabilityMask(caps.inheritable),
    ambient: capabilityMask(caps.ambient),
  };
}

export function capabilityNames(mask: bigint): string[] {
  return Object.entries(CAPABILITIES)
    .filter(([, bit]) => (mask >> BigInt(bit)) & 1n)
    .map(([name]) => name);
}
