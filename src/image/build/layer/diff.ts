/**
 * What a build step changed, as layer entries: from an overlay upper dir
 * (overlay-diff.ts) or by comparing two full trees (tree-diff.ts). Each
 * item is a tar header; files name the path their content is read from,
 * relative to the root the diff was taken of.
 */
import type { LayerHeader } from './node.ts';

export interface DiffItem {
  header: LayerHeader;
  /** For files: where the content is, relative to the diffed root (binary string). */
  path?: string;
}
