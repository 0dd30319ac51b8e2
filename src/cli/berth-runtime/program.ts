/**
 * berth-runtime's commands: runc's verbs, flags and global flags, since
 * podman, containerd and cri-o call it in runc's place. Each command's
 * module loads only when it runs (`state` need not load what `create`
 * uses).
 */
import { RUNTIME_SPEC_VERSION } from '../../oci/runtime-spec.ts';
import { BERTH_VERSION } from '../../runtime/features.ts';
import type { Entry, Program } from '../framework/command.ts';
import { RUNC } from '../framework/flags.ts';
import type { RuntimeCommandContext } from './context.ts';
import { GLOBAL_FLAGS } from './global-flags.ts';

type E = Entry<RuntimeCommandContext>;

const COMMANDS: E[] = [
  { name: 'create', summary: 'create a container that waits for start', load: () => import('./commands/create.ts') },
  { name: 'start', summary: 'start a created container', load: () => import('./commands/start.ts') },
  { name: 'state', summary: 'print the state of a container (runtime-spec JSON)', load: () => import('./commands/state.ts') },
  { name: 'kill', summary: 'send a signal (default SIGTERM) to the container', load: () => import('./commands/kill.ts') },
  { name: 'delete', summary: 'delete a container and what the runtime holds for it', load: () => import('./commands/delete.ts') },
  { name: 'run', summary: 'create and start a container; in the foreground, exit with its status', load: () => import('./commands/run.ts') },
  { name: 'list', summary: 'list containers', load: () => import('./commands/list.ts') },
  { name: 'ps', summary: 'list the processes of a container (ps(1) lines, or pids as JSON)', load: () => import('./commands/ps.ts') },
  { name: 'exec', summary: 'run another process in a running container', load: () => import('./commands/exec.ts') },
  { name: 'pause', summary: 'freeze every process of the container', load: () => import('./commands/pause.ts') },
  { name: 'resume', summary: 'thaw a paused container', load: () => import('./commands/resume.ts') },
  { name: 'events', summary: 'print resource usage and OOM kills of a container as JSON lines', load: () => import('./commands/events.ts') },
  { name: 'update', summary: 'change the resource limits of a running container', load: () => import('./commands/update.ts') },
  { name: 'spec', summary: 'write a default config.json into the bundle directory', load: () => import('./commands/spec.ts') },
  { name: 'features', summary: 'print what berth-runtime implements (runtime-spec features JSON)', load: () => import('./commands/features.ts') },
];

export const RUNTIME_PROGRAM: Program<RuntimeCommandContext> = {
  name: 'berth-runtime',
  summary: 'An OCI runtime with runc\'s command line.',
  dialect: RUNC,
  globals: GLOBAL_FLAGS,
  commands: COMMANDS,
  groups: [],
  version: () => `berth-runtime version ${BERTH_VERSION}\nspec: ${RUNTIME_SPEC_VERSION}\nnode: ${process.version}\n`,
};
