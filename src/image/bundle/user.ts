/**
 * The image's `User` ("name", "uid", "name:group", "uid:gid") resolved
 * through the image's own /etc/passwd and /etc/group, with the rules of
 * moby/sys/user (which umoci and runc use): names must exist, numbers need
 * not; without an explicit group the user's supplementary groups come from
 * /etc/group; HOME comes from the passwd entry ("/" when there is none).
 */
import { invalidArgument } from '../../errors.ts';
import { parseId, parsePasswd } from '../../runtime/linux/passwd.ts';

export { parsePasswd };

export interface ExecUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Lines of `name:x:gid:member,member`. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const gid = parseId(f[2] ?? '');
    if (f[0] === undefined || f[0] === '' || gid === undefined) continue;
    out.push({ name: f[0], gid, members: (f[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return out;
}

export interface UserDb {
  /** Text of /etc/passwd, undefined when the image has none. */
  passwd?: string | undefined;
  group?: string | undefined;
}

/** `field` names where `spec` came from in errors (the image's User, or a flag such as `--user`). */
export function resolveUser(spec: string | undefined, db: UserDb, field = 'image config User'): ExecUser {
  const [userPart = '', groupPart, ...extra] = (spec ?? '').split(':');
  if (extra.length > 0) throw invalidArgument('image_user', `${field} ${JSON.stringify(spec)}: more than one ":"`);
  const users = db.passwd === undefined ? [] : parsePasswd(db.passwd);
  const groups = db.group === undefined ? [] : parseGroup(db.group);
  const result: ExecUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };
  let userName = '';

  const uidNum = parseId(userPart);
  const entry = users.find((u) => (uidNum === undefined ? u.name === userPart : u.uid === uidNum || u.name === userPart)) ?? (userPart === '' ? users.find((u) => u.uid === 0) : undefined);
  if (entry !== undefined) {
    result.uid = entry.uid;
    result.gid = entry.gid;
    result.home = entry.home === '' ? '/' : entry.home;
    userName = entry.name;
  } else if (uidNum !== undefined) {
    result.uid = uidNum;
  } else if (userPart !== '') {
    throw invalidArgument('image_user', `${field} ${JSON.stringify(spec)}: no user "${userPart}" in the image's /etc/passwd`);
  }
  if (uidNum !== undefined) result.uid = uidNum;

  if (groupPart !== undefined && groupPart !== '') {
    const gidNum = parseId(groupPart);
    const g = groups.find((x) => x.name === groupPart || (gidNum !== undefined && x.gid === gidNum));
    if (g !== undefined) result.gid = g.gid;
    else if (gidNum !== undefined) result.gid = gidNum;
    else throw invalidArgument('image_user', `${field} ${JSON.stringify(spec)}: no group "${groupPart}" in the image's /etc/group`);
  } else if (userName !== '') {
    result.additionalGids = groups.filter((g) => g.members.includes(userName)).map((g) => g.gid);
  }
  return result;
}
