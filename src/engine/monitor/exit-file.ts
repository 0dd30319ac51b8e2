/**
 * The container's exit as berth-monitor recorded it in RUN/exit (written
 * by temp + fsync + rename, so it is whole or absent): `exit CODE` or
 * `signal N`. Absent while the container runs (or its output drains).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode, ErrorKind } from '../../errors.ts';

export type ExitStatus = { code: number; signal?: undefined } | { signal: number; code?: undefined };

export function readExit(runDir: string): ExitStatus | undefined {
  const path = join(runDir, 'exit');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const m = /^(exit|signal) (\d+)\n$/.exec(text);
  if (!m) throw new BerthError(ErrorKind.Internal, 'monitor_exit_file_invalid', `${path}: not an exit status: ${JSON.stringify(text.slice(0, 64))}`);
  return m[1] === 'exit' ? { code: Number(m[2]) } : { signal: Number(m[2]) };
}
