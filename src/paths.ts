/**
 * Where the built pieces are: the executor, the compiled schema validators.
 * From a bundle (build/<command>.bundle.cjs, where the build defines
 * BERTH_BUNDLED) that is the bundle's own directory; from the sources
 * (tests) it is build/ of the repository.
 */
import { join } from 'node:path';

declare const BERTH_BUNDLED: boolean | undefined;

export function buildDir(): string {
  const bundled = typeof BERTH_BUNDLED !== 'undefined' && BERTH_BUNDLED;
  return bundled ? import.meta.dirname : join(import.meta.dirname, '..', 'build');
}
