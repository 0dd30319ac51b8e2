/**
 * Docker's ExecConfig (the body of `POST /containers/{id}/exec`), checked
 * field by field: what arrives from a client is unknown until it is. The
 * field names are Docker's; fields Docker's clients send that berth has no
 * use for (DetachKeys, the old Detach) are ignored, as dockerd ignores
 * fields it does not know.
 */
import { invalidArgument } from '../../errors.ts';

export interface ExecConfig {
  Cmd: string[];
  Env: string[];
  /** `user`, `user:group`, `uid:gid`; empty: the container's user. */
  User: string;
  /** Absolute; empty: the container's working directory. */
  WorkingDir: string;
  Tty: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Privileged: boolean;
  /** [height, width] of the terminal at start. */
  ConsoleSize?: [number, number];
}

function bad(field: string, why: string): Error {
  return invalidArgument('exec_config_invalid', `exec config ${field}: ${why}`, { details: { field } });
}

function strings(raw: Record<string, unknown>, field: string): string[] {
  const v = raw[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw bad(field, 'must be an array of strings');
  if (v.some((s: string) => s.includes('\0'))) throw bad(field, 'contains a NUL byte');
  return v;
}

function string(raw: Record<string, unknown>, field: string): string {
  const v = raw[field];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw bad(field, 'must be a string');
  if (v.includes('\0')) throw bad(field, 'contains a NUL byte');
  return v;
}

function flag(raw: Record<string, unknown>, field: string): boolean {
  const v = raw[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw bad(field, 'must be true or false');
  return v;
}

/** [height, width], both positive integers below 65536 (a terminal's size is two 16-bit numbers). */
export function parseConsoleSize(v: unknown, field = 'ConsoleSize'): [number, number] | undefined {
  if (v === undefined || v === null) return undefined;
  const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) < 65536;
  if (!Array.isArray(v) || v.length !== 2 || !ok(v[0]) || !ok(v[1])) throw bad(field, 'must be [height, width]');
  return [v[0], v[1]];
}

export function parseExecConfig(raw: unknown): ExecConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('', 'must be a JSON object');
  const r = raw as Record<string, unknown>;
  const Cmd = strings(r, 'Cmd');
  if (Cmd.length === 0 || Cmd[0] === '') throw bad('Cmd', 'no command specified');
  const Env = strings(r, 'Env');
  for (const e of Env) {
    if (e === '' || e.startsWith('=')) throw bad('Env', `${JSON.stringify(e)}: not NAME=value`);
  }
  const WorkingDir = string(r, 'WorkingDir');
  if (WorkingDir !== '' && !WorkingDir.startsWith('/')) throw bad('WorkingDir', `"${WorkingDir}": must be an absolute path`);
  const ConsoleSize = parseConsoleSize(r['ConsoleSize']);
  return {
    Cmd, Env, User: string(r, 'User'), WorkingDir,
    Tty: flag(r, 'Tty'), AttachStdin: flag(r, 'AttachStdin'), AttachStdout: flag(r, 'AttachStdout'), AttachStderr: flag(r, 'AttachStderr'),
    Privileged: flag(r, 'Privileged'),
    ...(ConsoleSize === undefined ? {} : { ConsoleSize }),
  };
}
