/**
 * The `berth fn` group: faas-cli's verbs, one line each. A module whose
 * default export is its command loads with `() => import('./x.ts')`; a
 * module with several (query.ts, build.ts, secret.ts) is picked from with
 * `pick`. A new verb is one more line in FN_COMMANDS, e.g.
 *   { name: 'usage', summary: '...', load: () => import('./usage.ts') },
 * and a verb with verbs of its own (`queue list|replay`) one entry in
 * FN_GROUPS, its commands picked from its module like `secret`'s.
 */
import type { Command, Entry, Group } from '../../../framework/command.ts';
import type { CommandContext } from '../../context.ts';

type E = Entry<CommandContext>;
type Loaded = Promise<{ default: Command<CommandContext> }>;

const pick = <M extends Record<string, unknown>>(load: () => Promise<M>, name: keyof M & string): (() => Loaded) => () =>
  load().then((m) => ({ default: m[name] as Command<CommandContext> }));

const query = (name: 'list' | 'describe'): (() => Loaded) => pick(() => import('./query.ts'), name);
const building = (name: 'build' | 'push' | 'up'): (() => Loaded) => pick(() => import('./build.ts'), name);
const secret = (name: 'create' | 'update' | 'list' | 'remove'): (() => Loaded) => pick(() => import('./secret.ts'), name);

export const FN_COMMANDS: E[] = [
  { name: 'build', summary: 'Build the functions\' images with berth\'s builder', load: building('build') },
  { name: 'deploy', summary: 'Deploy functions (the stack file\'s, or --image and --name)', load: () => import('./deploy.ts') },
  { name: 'describe', summary: 'Describe a function', load: query('describe') },
  { name: 'invoke', summary: 'Invoke a function with standard input as the body', load: () => import('./invoke.ts') },
  { name: 'list', aliases: ['ls'], summary: 'List functions', load: query('list') },
  { name: 'login', summary: 'Store gateway credentials (--show: print the gateway\'s own)', load: () => import('./login.ts') },
  { name: 'logs', summary: 'Fetch the logs of a function', load: () => import('./logs.ts') },
  { name: 'new', summary: 'Create a function from a template (sh, node, dockerfile)', load: () => import('./new.ts') },
  { name: 'push', summary: 'Push the functions\' images to their registry', load: building('push') },
  { name: 'remove', aliases: ['rm'], summary: 'Remove functions', load: () => import('./remove.ts') },
  { name: 'up', summary: 'Build, push and deploy (faas-cli up)', load: building('up') },
];

export const FN_GROUPS: Group<CommandContext>[] = [
  {
    name: 'secret',
    summary: 'Manage function secrets',
    commands: [
      { name: 'create', summary: 'Create a secret', load: secret('create') },
      { name: 'list', aliases: ['ls'], summary: 'List secrets', load: secret('list') },
      { name: 'remove', aliases: ['rm'], summary: 'Remove a secret', load: secret('remove') },
      { name: 'update', summary: 'Update a secret', load: secret('update') },
    ],
  },
];
