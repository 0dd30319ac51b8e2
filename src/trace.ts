/**
 * Timing marks for finding where start-up time goes: with BERTH_TRACE=1,
 * each mark prints its time since the process started to stderr.
 */
const enabled = process.env['BERTH_TRACE'] === '1';

if (enabled) process.on('exit', () => mark('exit'));

export function mark(label: string): void {
  if (enabled) process.stderr.write(`[berth ${performance.now().toFixed(1)} ms] ${label}\n`);
}
