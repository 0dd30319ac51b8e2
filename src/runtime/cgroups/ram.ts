/**
 * Memory sizes as runc's and docker's flags take them. A module of its own:
 * the command line checks --memory and the like without loading the
 * runtime's update.
 */
import { invalidArgument } from '../../errors.ts';

const SIZE = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i;
const BINARY: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** Bytes from "64m", "1.5GiB", "512k", "4096" (go-units' RAMInBytes: binary units, case-insensitive, "b" optional). */
export function ramInBytes(text: string): number {
  const m = SIZE.exec(text);
  const n = Number(m?.[1]);
  if (m === null || !Number.isFinite(n)) throw invalidArgument('invalid_flag', `invalid size: '${text}'`);
  return Math.trunc(n * (BINARY[(m[2] ?? '').toLowerCase()] ?? 1));
}
