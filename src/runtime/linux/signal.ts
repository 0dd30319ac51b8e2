/**
 * Signal names and numbers as runc and docker take them. A module of its
 * own: the command line checks a --signal or --stop-signal flag without
 * loading the runtime's lifecycle.
 */
import { invalidArgument } from '../../errors.ts';
import { SIGNALS } from './constants.ts';

/** "KILL", "SIGKILL", "kill" and "9" all name SIGKILL. */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return n;
  } else {
    const upper = text.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    const n = SIGNALS[name];
    if (n !== undefined) return n;
    const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
    if (rt) return 34 + Number(rt[1] ?? 0);
  }
  throw invalidArgument('invalid_signal', `signal "${text}": not a signal name or number`);
}
