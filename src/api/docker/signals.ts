/** Signal numbers back to the names docker shows (Config.StopSignal "SIGTERM"). */
import { SIGNALS } from '../../runtime/linux/constants.ts';

export function parseSignalName(n: number): string {
  for (const [name, value] of Object.entries(SIGNALS)) if (value === n) return name;
  return String(n);
}
