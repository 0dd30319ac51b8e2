/**
 * A module loaded on its first use and kept. Where a resident process runs
 * from its TypeScript sources (the engine library, its bench), each
 * `await import()` of a module already loaded still goes through the ESM
 * loader's resolution, ~50 µs a call, several calls a container; in a
 * bundle it is nearly free either way.
 */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}
