/**
 * Where the built pieces are: the executor, the compiled schema validators.
 * From a bundle (build/<command>/*.mjs, where the build defines
 * BERTH_BUNDLED) that is the directory above; from the sources (tests) it
 * is build/ of the repository.
 */
import { join } from 'node:path';

declare const BERTH_BUNDLED: boolean | undefined;

export function buildDir(): string {
  const bundled = typeof BERTH_BUNDLED !== 'undefined' && BERTH_BUNDLED;
  return bundled ? join(import.meta.dirname, '..') : join(import.meta.dirname, '..', 'build');
}
