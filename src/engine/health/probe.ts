/**
 * One health probe: the check's command as an exec in the container (its
 * user and working directory, no stdin, no terminal), stdout and stderr
 * together into one capped output, killed at the timeout (the time to
 * start the exec does not count, as in dockerd). A probe that cannot run
 * counts as a failure with the reason as its output; one aborted (the
 * container stops) gives no result.
 */
import { describeError } from '../../errors.ts';
import type { ExecContainer, ExecSessions } from '../exec/sessions.ts';
import { attachSocket } from '../monitor/attach.ts';
import type { HealthProbe } from '../store/health.ts';
import { cappedOutput, MAX_OUTPUT, type HealthSettings } from './check.ts';

export async function runProbe(execs: ExecSessions, container: ExecContainer, s: HealthSettings, abort: AbortSignal): Promise<HealthProbe | undefined> {
  const start = new Date();
  const result = (ExitCode: number, Output: string): HealthProbe => ({ Start: start.toISOString(), End: new Date().toISOString(), ExitCode, Output });
  let id: string | undefined;
  try {
    id = execs.createExec(container, { Cmd: s.command, AttachStdout: true, AttachStderr: true });
    const started = await execs.startExec(id);
    const chunks: Buffer[] = [];
    let kept = 0;
    const attached = started.socket === undefined ? undefined : attachSocket(started.socket, (_stream, b) => {
      // One byte past the cap is enough to know that it was cut.
      if (kept <= MAX_OUTPUT) chunks.push(b);
      kept += b.length;
    });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await new Promise<'exited' | 'timeout' | 'aborted'>((resolve) => {
      void started.exited.then(() => resolve('exited'), () => resolve('exited'));
      timer = setTimeout(() => resolve('timeout'), s.timeoutMs);
      if (abort.aborted) resolve('aborted');
      abort.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    clearTimeout(timer);
    if (outcome !== 'exited') {
      execs.killExec(id);
      await started.exited;
    }
    // The monitor ends the attachment after the last output: only then is the output whole.
    await attached?.closed;
    if (outcome === 'aborted') return undefined;
    const output = cappedOutput(chunks);
    if (outcome === 'timeout') return result(-1, `Health check exceeded timeout (${s.timeoutText})${output === '' ? '' : `: ${output}`}`);
    return result((await started.exited) ?? -1, output);
  } catch (err) {
    return abort.aborted ? undefined : result(-1, describeError(err));
  } finally {
    if (id !== undefined) execs.removeExec(id);
  }
}
