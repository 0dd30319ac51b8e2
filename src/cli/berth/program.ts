/**
 * berth's commands, grouped by noun as docker's are (`berth image pull`),
 * with docker's top-level shortcuts kept (`berth pull`, `berth images`,
 * `berth rmi`). The container, network, volume, fn and system groups are
 * the rooms where the engine's, the network's and the functions' commands
 * go; they have none yet. Each command's module loads only when it runs.
 */
import { DEFAULT_RUN_ROOT } from '../../api/paths.ts';
import { DEFAULT_ROOT } from '../../image/store/default-root.ts';
import { shortcut, type Command, type Entry, type Group, type Program } from '../framework/command.ts';
import { DOCKER, type FlagSpec } from '../framework/flags.ts';
import type { CommandContext } from './context.ts';
import { FN_COMMANDS, FN_GROUPS } from './commands/fn/entries.ts';

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

type Loaded = Promise<{ default: Command<CommandContext> }>;
/** The commands that are one request each live in one module (lifecycle.ts); each entry picks its own. */
const lifecycle = (pick: 'start' | 'stop' | 'restart' | 'kill' | 'rm' | 'pause' | 'unpause' | 'wait' | 'rename'): (() => Loaded) => () =>
  import('./commands/container/lifecycle.ts').then((m) => ({ default: m[pick] }));
const run: E = { name: 'run', summary: 'Create and run a new container from an image', load: () => import('./commands/container/run.ts') };
const create: E = { name: 'create', summary: 'Create a new container', load: () => import('./commands/container/create.ts') };
const start: E = { name: 'start', summary: 'Start one or more stopped containers', load: lifecycle('start') };
const stop: E = { name: 'stop', summary: 'Stop one or more running containers', load: lifecycle('stop') };
const restart: E = { name: 'restart', summary: 'Restart one or more containers', load: lifecycle('restart') };
const kill: E = { name: 'kill', summary: 'Kill one or more running containers', load: lifecycle('kill') };
const rmContainer: E = { name: 'rm', aliases: ['remove'], summary: 'Remove one or more containers', load: lifecycle('rm') };
const pause: E = { name: 'pause', summary: 'Pause all processes within one or more containers', load: lifecycle('pause') };
const unpause: E = { name: 'unpause', summary: 'Unpause all processes within one or more containers', load: lifecycle('unpause') };
const wait: E = { name: 'wait', summary: 'Block until one or more containers stop, then print their exit codes', load: lifecycle('wait') };
const rename: E = { name: 'rename', summary: 'Rename a container', load: lifecycle('rename') };
const query = (pick: 'ps' | 'inspect' | 'logs' | 'top' | 'port' | 'stats' | 'events' | 'prune'): (() => Loaded) => () =>
  import('./commands/container/query.ts').then((m) => ({ default: m[pick] }));
const interact = (pick: 'exec' | 'attach' | 'cp' | 'update'): (() => Loaded) => () =>
  import('./commands/container/interact.ts').then((m) => ({ default: m[pick] }));
const volume = (pick: 'create' | 'ls' | 'inspect' | 'rm' | 'prune'): (() => Loaded) => () => import('./commands/volume.ts').then((m) => ({ default: m[pick] }));
const network = (pick: 'create' | 'ls' | 'inspect' | 'rm' | 'connect' | 'disconnect' | 'prune'): (() => Loaded) => () => import('./commands/network.ts').then((m) => ({ default: m[pick] }));
const disk = (pick: 'df' | 'prune'): (() => Loaded) => () => import('./commands/system-disk.ts').then((m) => ({ default: m[pick] }));
const ps: E = { name: 'ps', aliases: ['ls', 'list'], summary: 'List containers', load: query('ps') };
const logs: E = { name: 'logs', summary: 'Fetch the logs of a container', load: query('logs') };
const top: E = { name: 'top', summary: 'Display the running processes of a container', load: query('top') };
const port: E = { name: 'port', summary: 'List port mappings or a specific mapping for the container', load: query('port') };
const stats: E = { name: 'stats', summary: 'Display a live stream of container(s) resource usage statistics', load: query('stats') };
const events: E = { name: 'events', summary: 'Get real time events from berthd', load: query('events') };
const exec: E = { name: 'exec', summary: 'Execute a command in a running container', load: interact('exec') };
const attach: E = { name: 'attach', summary: 'Attach local standard input, output, and error streams to a running container', load: interact('attach') };
const cp: E = { name: 'cp', summary: 'Copy files/folders between a container and the local filesystem', load: interact('cp') };
const update: E = { name: 'update', summary: 'Update configuration of one or more containers', load: interact('update') };
/** docker's top-level container commands (`berth ps`, `berth run`, ...). */
const CONTAINER_TOP: E[] = [attach, cp, create, events, exec, kill, logs, pause, port, ps, rename, restart, rmContainer, run, start, stats, stop, top, unpause, update, wait];
// Sorted in code-unit order: the names are lowercase ASCII, and localeCompare would load ICU's collator at every start.
const CONTAINER_COMMANDS: E[] = [
  ...CONTAINER_TOP.filter((e) => e !== events),
  { name: 'inspect', summary: 'Display detailed information on one or more containers', load: query('inspect') },
  { name: 'prune', summary: 'Remove all stopped containers', load: query('prune') },
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

const GROUPS: Group<CommandContext>[] = [
  { name: 'container', summary: 'Manage containers', commands: CONTAINER_COMMANDS },
  { name: 'fn', summary: 'Manage functions (faas-cli\'s verbs over stack.yml)', commands: FN_COMMANDS, groups: FN_GROUPS },
  { name: 'image', summary: 'Manage images', commands: [build, copy, importEntry, inspect, load, ls, mount, prune, pull, push, rm, save, tag, unmount, unpack] },
  {
    name: 'network',
    summary: 'Manage networks',
    commands: [
      { name: 'connect', summary: 'Connect a container to a network', load: network('connect') },
      { name: 'create', summary: 'Create a network', load: network('create') },
      { name: 'disconnect', summary: 'Disconnect a container from a network', load: network('disconnect') },
      { name: 'inspect', summary: 'Display detailed information on one or more networks', load: network('inspect') },
      { name: 'ls', aliases: ['list'], summary: 'List networks', load: network('ls') },
      { name: 'prune', summary: 'Remove all unused networks', load: network('prune') },
      { name: 'rm', aliases: ['remove'], summary: 'Remove one or more networks', load: network('rm') },
    ],
  },
  {
    name: 'system',
    summary: 'Manage berth itself',
    commands: [
      { name: 'df', summary: 'Show berth disk usage', load: disk('df') },
      events,
      { name: 'info', summary: 'Show what berthd runs on and holds', load: () => import('./commands/system-info.ts') },
      { name: 'prune', summary: 'Remove stopped containers, dangling images (and with --volumes unused anonymous volumes)', load: disk('prune') },
      { name: 'service', summary: 'Run berthd in the foreground (for supervisors)', load: () => import('./commands/system-service.ts') },
      { name: 'stop', summary: 'Stop berthd; containers keep running', load: () => import('./commands/system-stop.ts') },
    ],
  },
  {
    name: 'volume',
    summary: 'Manage volumes',
    commands: [
      { name: 'create', summary: 'Create a volume', load: volume('create') },
      { name: 'inspect', summary: 'Display detailed information on one or more volumes', load: volume('inspect') },
      { name: 'ls', aliases: ['list'], summary: 'List volumes', load: volume('ls') },
      { name: 'prune', summary: 'Remove unused local volumes', load: volume('prune') },
      { name: 'rm', aliases: ['remove'], summary: 'Remove one or more volumes', load: volume('rm') },
    ],
  },
];

const TOP: E[] = [
  ...CONTAINER_TOP,
  build,
  shortcut(ls, 'images'),
  importEntry,
  { name: 'inspect', summary: 'Return low-level information on containers or images', load: () => import('./commands/any-inspect.ts') },
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
