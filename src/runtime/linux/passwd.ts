/**
 * /etc/passwd as libc reads it, for the runtime (HOME of a process) and the
 * image tools (an image's `User`).
 */

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

const MAX_ID = 2 ** 31 - 1;

/** A decimal user or group id, undefined when it is none. */
export function parseId(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

/** Lines of `name:x:uid:gid:gecos:home:shell`; malformed lines are skipped, as libc does. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '');
    if (f[0] === undefined || f[0] === '' || uid === undefined || gid === undefined) continue;
    out.push({ name: f[0], uid, gid, home: f[5] ?? '' });
  }
  return out;
}
