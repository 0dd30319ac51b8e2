/**
 * The real docker CLI (client only) against a test's berthd: its own
 * config directory (no user's contexts or credentials) and DOCKER_HOST the
 * daemon's socket; and a terminal for `run -it`, `exec -it`: util-linux
 * `script` gives the CLI a pty of a set size, and input is typed only once
 * the output shows what it waits for. scripts/install.sh installs neither:
 * without them on PATH the tests skip, saying so.
 */
import { execFileSync, spawn } from 'node:child_process';
import { runCommand, type CliOptions, type CliResult, type TestDaemon } from './daemon.ts';

function commandPath(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export const DOCKER = commandPath('docker');
export const SCRIPT = commandPath('script');
export const NO_DOCKER = DOCKER === undefined ? 'no docker CLI on PATH (scripts/install.sh does not install one)' : false;

export function dockerEnv(d: TestDaemon): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_CONFIG: d.scratch, DOCKER_CONTEXT: '' };
}

export function docker(d: TestDaemon, args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return runCommand(DOCKER!, args, { timeoutMs: 60_000, ...options, env: { ...dockerEnv(d), ...options.env } });
}

const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

export interface TerminalStep {
  /** Typed once the output so far matches this. */
  after: RegExp;
  type: string;
}

/** Runs the docker CLI on a pty of `rows`×`cols`, typing each step's input after its prompt; the exit code is the CLI's. */
export function dockerInTerminal(d: TestDaemon, args: readonly string[], steps: readonly TerminalStep[], size = { rows: 30, cols: 100 }): Promise<{ code: number | null; output: string }> {
  const command = `stty rows ${size.rows} cols ${size.cols}; exec ${[DOCKER!, ...args].map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(SCRIPT!, ['-qfec', command, '/dev/null'], { env: dockerEnv(d), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let output = '';
    let next = 0;
    const onOutput = (b: Buffer): void => {
      output += b.toString();
      while (next < steps.length && steps[next]!.after.test(output)) child.stdin.write(steps[next++]!.type);
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.stdin.on('error', () => undefined);
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
