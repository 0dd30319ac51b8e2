/**
 * berth-runtime's global options (runc's), before the command. The build
 * also reads them: the launcher finds the command's name past them to pick
 * its code cache (scripts/launcher.ts).
 */
import type { FlagSpec } from '../framework/flags.ts';
import { DEFAULT_STATE_ROOT } from '../../runtime/state/store.ts';

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'root', type: 'string', value: 'DIR', help: `state directory (default ${DEFAULT_STATE_ROOT}; $XDG_RUNTIME_DIR/berth-runtime without root)` },
  { name: 'log', type: 'string', value: 'FILE', help: 'write errors, warnings (and debug output) to FILE' },
  { name: 'log-format', type: 'string', value: 'text|json', help: 'format of the log (default text)' },
  { name: 'debug', type: 'bool', help: 'log what the runtime does' },
  { name: 'systemd-cgroup', type: 'bool', help: 'use systemd for cgroups (not supported: berth-runtime manages cgroupfs itself)' },
  { name: 'rootless', type: 'string', value: 'true|false|auto', help: 'accepted for runc compatibility (decided from the effective uid)' },
  { name: 'criu', type: 'string', value: 'PATH', help: 'accepted for runc compatibility (checkpointing is not supported)' },
  { name: 'version', short: 'v', type: 'bool', help: 'print the version' },
];
