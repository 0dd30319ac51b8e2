/**
 * Chain IDs (image-spec config.md): the ID of layer n names the stack of
 * layers 0..n, so equal stacks share one committed snapshot across images.
 *   ChainID(L0) = DiffID(L0); ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln))
 */
import { createHash } from 'node:crypto';

export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const parent = out[out.length - 1];
    out.push(parent === undefined ? diffId : `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`);
  }
  return out;
}
