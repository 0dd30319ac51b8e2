/**
 * berth's commands, grouped by noun as docker's are (`berth image pull`),
 * with docker's top-level shortcuts kept (`berth pull`, `berth images`,
 * `berth rmi`). The container, network, volume, fn and system groups are
 * the rooms where the engine's, the network's and the functions' commands
 * go; they have none yet. Each command's module loads only when it runs.
 */
import { DEFAULT_RUN_ROOT } from '../../api/paths.ts';
import { DEFAULT_ROOT } from '../../image/store/store.ts';
import { shortcut, type Entry, type Group, type Program } from '../framework/command.ts';
import { DOCKER, type FlagSpec } from '../framework/flags.ts';
import type { CommandContext } from './context.ts';

type E = Entry<CommandContext>;

const build: E = { name: 'build', summary: 'Build an image from a Containerfile', load: () => import('./commands/build.ts') };
const copy: E = { name: 'copy', aliases: ['cp'], summary: 'Copy an image between transports', load: () => import('./commands/copy.ts') };
const importEntry: E = { name: 'import', summary: 'Make an image from a root filesystem directory or tarball', load: () => import('./commands/import.ts') };
const inspect: E = { name: 'inspect', summary: 'Show what an image is made of (local, or --remote without pulling)', load: () => import('./commands/inspect.ts') };
const load: E = { name: 'load', summary: 'Load images from a docker-archive or oci-archive file', load: () => import('./commands/load.ts') };
const ls: E = { name: 'ls', aliases: ['list'], summary: 'List images in the store', load: () => import('./commands/images.ts') };
const mount: E = { name: 'mount', summary: 'Mount an image\'s root filesystem (lists mounts without IMAGE)', load: () => import('./commands/mount.ts') };
const prune: E = { name: 'prune', summary: 'Remove dangling images and unreferenced blobs', load: () => import('./commands/prune.ts') };
const pull: E = { name: 'pull', summary: 'Pull an image from a registry into the store', load: () => import('./commands/pull.ts') };
const push: E = { name: 'push', summary: 'Push an image from the store to a registry (or any transport)', load: () => import('./commands/push.ts') };
const rm: E = { name: 'rm', summary: 'Remove images from the store', load: () => import('./commands/rmi.ts') };
const save: E = { name: 'save', summary: 'Write an image from the store to an archive file (or stdout)', load: () => import('./commands/save.ts') };
const tag: E = { name: 'tag', summary: 'Give an image another name', load: () => import('./commands/tag.ts') };
const unmount: E = { name: 'unmount', aliases: ['umount'], summary: 'Unmount what berth image mount mounted', load: () => import('./commands/unmount.ts') };
const unpack: E = { name: 'unpack', summary: 'Unpack an image into a runtime bundle directory', load: () => import('./commands/unpack.ts') };

const GROUPS: Group<CommandContext>[] = [
  { name: 'container', summary: 'Manage containers', commands: [] },
  { name: 'fn', summary: 'Manage functions', commands: [] },
  { name: 'image', summary: 'Manage images', commands: [build, copy, importEntry, inspect, load, ls, mount, prune, pull, push, rm, save, tag, unmount, unpack] },
  { name: 'network', summary: 'Manage networks', commands: [] },
  {
    name: 'system',
    summary: 'Manage berth itself',
    commands: [
      { name: 'info', summary: 'Show what berthd runs on and holds', load: () => import('./commands/system-info.ts') },
      { name: 'service', summary: 'Run berthd in the foreground (for supervisors)', load: () => import('./commands/system-service.ts') },
      { name: 'stop', summary: 'Stop berthd; containers keep running', load: () => import('./commands/system-stop.ts') },
    ],
  },
  { name: 'volume', summary: 'Manage volumes', commands: [] },
];

const TOP: E[] = [
  build,
  shortcut(ls, 'images'),
  importEntry,
  inspect,
  load,
  { name: 'login', summary: 'Store registry credentials (after checking them)', load: () => import('./commands/login.ts') },
  { name: 'logout', summary: 'Remove stored registry credentials', load: () => import('./commands/logout.ts') },
  pull,
  push,
  shortcut(rm, 'rmi'),
  save,
  tag,
];

const GLOBALS: FlagSpec[] = [
  { name: 'root', type: 'string', value: 'DIR', help: `where images are stored (default ${DEFAULT_ROOT})` },
  { name: 'run-root', type: 'string', value: 'DIR', help: `berthd's run-time state (default ${DEFAULT_RUN_ROOT})` },
  { name: 'socket', type: 'string', value: 'PATH', help: 'berthd\'s socket (default RUN-ROOT/berth.sock)' },
  { name: 'quiet', short: 'q', type: 'bool', help: 'print less (no progress)' },
  { name: 'tls-verify', type: 'bool', help: 'require https and verify certificates (default: except for loopback registries)' },
  { name: 'authfile', type: 'string', value: 'FILE', help: 'registry credentials (default ~/.docker/config.json)' },
  { name: 'creds', type: 'string', value: 'USER:PASS', help: 'registry credentials for this command' },
  { name: 'version', type: 'bool', help: 'print the version' },
];

export const BERTH_PROGRAM: Program<CommandContext> = {
  name: 'berth',
  summary: 'Images now; containers, networks, volumes and functions to come.',
  dialect: DOCKER,
  globals: GLOBALS,
  commands: TOP,
  groups: GROUPS,
  version: () => 'berth version 0.1.0\n',
  footer: 'A name without a registry means the default registry (BERTH_DEFAULT_REGISTRY), or localhost/ for local images.',
};
