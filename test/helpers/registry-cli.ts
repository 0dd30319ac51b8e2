/**
 * Runs the `berth` command line in-process (the same `main` the binary
 * runs) with captured output, for the image tests.
 */
import { main } from '../../src/cli/berth/cli.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function berth(...argv: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(
    argv,
    { write: (t) => void (stdout += t), isTTY: false, columns: 80 },
    { write: (t) => void (stderr += t), isTTY: false, columns: 80 },
  );
  return { code, stdout, stderr };
}

/** Runs berth and fails with its stderr when it does not exit 0. */
export async function berthOk(...argv: string[]): Promise<CliResult> {
  const r = await berth(...argv);
  if (r.code !== 0) throw new Error(`berth ${argv.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r;
}
