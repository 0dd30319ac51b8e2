/**
 * The space a volume's data takes, as `volume prune` reports it: the bytes
 * of its files, a file with several links counted once, symlinks as their
 * own size and never followed.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function directorySize(path: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const st = lstatSync(full, { bigint: true });
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (st.isDirectory()) walk(full);
      else total += Number(st.size);
    }
  };
  walk(path);
  return total;
}
