/**
 * Timing marks for finding where start-up time goes: with BERTH_TRACE=1,
 * each mark prints its time since the process started to stderr.
 */
import { writeSync } from 'node:fs';

const enabled = process.env['BERTH_TRACE'] === '1';

if (enabled) process.on('exit', () => mark('exit'));

export function mark(label: string): void {
  // Straight to fd 2: process.stderr would load the stream machinery the marks are meant to time.
  if (enabled) writeSync(2, `[berth ${performance.now().toFixed(1)} ms] ${label}\n`);
}
