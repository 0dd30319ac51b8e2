/**
 * The one shape of a bad `run`/`create` flag: the flag, the value as the
 * user typed it, and why (`--memory "64x": not a size`), with the flag and
 * value in the details for `--log-format json` and the API.
 */
import { invalidArgument, type BerthError } from '../../errors.ts';

export function flagError(flag: string, value: string, why: string, cause?: unknown): BerthError {
  return invalidArgument('run_flag_invalid', `${flag} ${JSON.stringify(value)}: ${why}`, {
    details: { flag, value },
    ...(cause === undefined ? {} : { cause }),
  });
}

export function conflict(a: string, b: string): BerthError {
  return invalidArgument('run_flags_conflict', `conflicting options: ${a} and ${b}`, { details: { flags: [a, b] } });
}
