/**
 * The store's own directories are 0700: layers unpacked under them hold the
 * images' setuid files and device placeholders, and image mounts live there,
 * so no other user may reach into them. A directory made by an older berth
 * with looser permissions is tightened when the store opens; one that is
 * sticky (a shared /tmp) or another user's is left as it is.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';

export function privateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const st = statSync(path);
  const ours = st.uid === (process.geteuid?.() ?? st.uid);
  if (ours && (st.mode & 0o1000) === 0 && (st.mode & 0o077) !== 0) chmodSync(path, st.mode & 0o7700);
}
