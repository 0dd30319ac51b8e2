/**
 * The hooks that run in the runtime's namespaces (prestart, createRuntime,
 * poststart, poststop): each gets the container's state on stdin, its
 * environment and arguments exactly as configured, and is killed at its
 * timeout. The container-side hooks run in the executor (run_hook).
 */
import { describeError, failedPrecondition } from '../errors.ts';
import type { Hook, State } from '../oci/runtime-spec.ts';

const OUTPUT_LIMIT = 4096;

function envObject(env: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) out[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return out;
}

export function runHook(phase: string, index: number, hook: Hook, state: State): Promise<void> {
  const label = `${phase} hook ${index} "${hook.path}"`;
  // Loaded when a hook runs: a container without hooks does not pay for node:child_process.
  const { spawn } = process.getBuiltinModule('node:child_process');
  return new Promise((resolve, reject) => {
    const args = hook.args ?? [hook.path];
    const child = spawn(hook.path, args.slice(1), {
      argv0: args[0] ?? hook.path,
      env: envObject(hook.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      if (output.length < OUTPUT_LIMIT) output += chunk.toString('utf8').slice(0, OUTPUT_LIMIT - output.length);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer =
      hook.timeout && hook.timeout > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, hook.timeout * 1000)
        : undefined;
    child.stdin.on('error', () => undefined); // a hook need not read its stdin
    child.stdin.end(JSON.stringify(state));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(failedPrecondition('hook_failed', `${label}: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const out = output.trim() ? `: ${output.trim()}` : '';
      if (timedOut) reject(failedPrecondition('hook_timeout', `${label} timed out after ${hook.timeout} s${out}`));
      else if (signal) reject(failedPrecondition('hook_failed', `${label} killed by ${signal}${out}`));
      else if (code !== 0) reject(failedPrecondition('hook_failed', `${label} exited with status ${code}${out}`));
      else resolve();
    });
  });
}

/** Runs the hooks of a phase in order; the first failure stops them. */
export async function runHooks(phase: string, hooks: readonly Hook[] | undefined, state: State): Promise<void> {
  for (const [i, hook] of (hooks ?? []).entries()) await runHook(phase, i, hook, state);
}

/** Runs every hook of a phase, collecting failures as warnings (poststart, poststop). */
export async function runHooksWarning(phase: string, hooks: readonly Hook[] | undefined, state: State): Promise<string[]> {
  const warnings: string[] = [];
  for (const [i, hook] of (hooks ?? []).entries()) {
    try {
      await runHook(phase, i, hook, state);
    } catch (err) {
      warnings.push(describeError(err));
    }
  }
  return warnings;
}
