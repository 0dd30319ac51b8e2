/**
 * `--label KEY[=VALUE]` (and network `--opt`) into a record. A module of its
 * own so the commands that take labels do not load the run options' parsers
 * (and through them the runtime) at start-up.
 */
import { flagError } from './flag-error.ts';

export function parseLabels(raw: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of raw) {
    const eq = entry.indexOf('=');
    const key = eq === -1 ? entry : entry.slice(0, eq);
    if (key === '') throw flagError('--label', entry, 'the key is empty');
    labels[key] = eq === -1 ? '' : entry.slice(eq + 1);
  }
  return labels;
}
