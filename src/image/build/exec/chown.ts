/**
 * COPY/ADD --chown=user[:group], names looked up in the destination
 * image's own /etc/passwd and /etc/group (read inside its root). As Docker
 * documents it, a user without a group also gives the group: a number
 * stands for itself, a name is looked up as a group first, then the user's
 * primary group is taken.
 */
import { parseGroup, parsePasswd, type UserDb } from '../../bundle/user.ts';

export class ChownProblem extends Error {}

const MAX_ID = 2 ** 32 - 2;

function numeric(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

export function parseChown(spec: string, db: UserDb): { uid: number; gid: number } {
  const parts = spec.split(':');
  if (parts.length > 2 || parts[0] === '') throw new ChownProblem(`--chown=${spec}: want USER[:GROUP]`);
  const [userPart = '', groupPart] = parts;
  const users = parsePasswd(db.passwd ?? '');
  const groups = parseGroup(db.group ?? '');
  let uid = numeric(userPart);
  let primary: number | undefined;
  if (uid === undefined) {
    const u = users.find((x) => x.name === userPart);
    if (u === undefined) throw new ChownProblem(`--chown=${spec}: no user "${userPart}" in the image's /etc/passwd`);
    uid = u.uid;
    primary = u.gid;
  }
  if (groupPart === undefined || groupPart === '') {
    const asNumber = numeric(userPart);
    if (asNumber !== undefined) return { uid, gid: asNumber };
    return { uid, gid: groups.find((g) => g.name === userPart)?.gid ?? primary ?? uid };
  }
  const gid = numeric(groupPart) ?? groups.find((g) => g.name === groupPart)?.gid;
  if (gid === undefined) throw new ChownProblem(`--chown=${spec}: no group "${groupPart}" in the image's /etc/group`);
  return { uid, gid };
}

/** --chmod: octal permission bits (e.g. 755, 0640). */
export function parseChmod(spec: string): number {
  if (!/^[0-7]{3,4}$/.test(spec)) throw new ChownProblem(`--chmod=${spec}: want octal permission bits such as 755 or 0640`);
  return parseInt(spec, 8);
}
