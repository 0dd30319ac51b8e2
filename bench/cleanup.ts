/** What the benches that run podman on private paths leave to undo: its containers and store, then the work directory. */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';

export interface PrivatePodman {
  dir: string;
  global: readonly string[];
  env: NodeJS.ProcessEnv;
}

/** Removes podman's containers and store (when it was set up) and `work`; a failure is added to `problems`. */
export function removePodmanAndWork(podman: PrivatePodman, work: string, problems: string[]): void {
  if (existsSync(podman.dir)) {
    spawnSync('podman', [...podman.global, 'rm', '-af', '-t', '0'], { env: podman.env });
    spawnSync('podman', [...podman.global, 'system', 'reset', '-f'], { env: podman.env });
  }
  try {
    rmSync(work, { recursive: true, force: true });
  } catch (err) {
    problems.push(`${work}: ${String(err)}`);
  }
}
