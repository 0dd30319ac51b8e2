/**
 * The container commands that are one request each (or one per container
 * named, as docker's: each name printed as it is done, failures reported
 * and the exit code 1 when any failed): start, stop, restart, kill, rm,
 * pause, unpause, wait, rename.
 */
import { describeError } from '../../../../errors.ts';
import { parseSignal } from '../../../../runtime/linux/signal.ts';
import { KILL_FLAGS, NO_FLAGS, RM_FLAGS, STOP_FLAGS } from '../../command-flags.ts';
import type { CommandContext } from '../../context.ts';
import { defineCommand } from '../../context.ts';
import { pump, waitFor, containerPath as path } from './attach-io.ts';

/** Runs `each` for every container named; prints the name as given on success. */
async function forEach(ctx: CommandContext, names: readonly string[], each: (name: string) => Promise<void>, print = true): Promise<number> {
  let failed = 0;
  for (const name of names) {
    try {
      await each(name);
      if (print) ctx.out(`${name}\n`);
    } catch (err) {
      failed++;
      ctx.stderr.write(`berth: ${describeError(err)}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}


export const start = defineCommand({
  args: ['CONTAINER...'],
  flags: [
    { name: 'attach', short: 'a', type: 'bool', help: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'interactive', short: 'i', type: 'bool', help: "Attach container's STDIN" },
  ],
  async run(ctx, input) {
    const client = await ctx.daemon();
    if (!input.bool('attach') && !input.bool('interactive')) return forEach(ctx, input.args, async (n) => void (await client.json('POST', path(n, '/start'))));
    const [name = ''] = input.args;
    const info = (await client.json('GET', path(name, '/json'))) as { Id: string; Config: { Tty: boolean; OpenStdin: boolean } };
    const stdin = input.bool('interactive') && info.Config.OpenStdin;
    const h = await client.hijack('POST', path(info.Id, '/attach'), { query: { stream: true, stdin, stdout: true, stderr: true } });
    const io = pump(client, info.Id, h.socket, { stdin, tty: info.Config.Tty });
    const { exit } = await waitFor(client, info.Id, 'next-exit');
    await client.json('POST', path(info.Id, '/start'));
    await io.resized();
    const [result] = await Promise.all([exit, io.done]);
    return result.code;
  },
});

/** stop and restart: the stop signal, -t seconds, then SIGKILL (restart then starts it again). */
const stopLike = (action: '/stop' | '/restart') =>
  defineCommand({
    args: ['CONTAINER...'],
    flags: STOP_FLAGS,
    async run(ctx, input) {
      const client = await ctx.daemon();
      const t = input.int('time');
      const signal = input.str('signal');
      if (signal !== undefined) parseSignal(signal);
      return forEach(ctx, input.args, async (n) => void (await client.json('POST', path(n, action), { query: { t, signal } })));
    },
  });

export const stop = stopLike('/stop');
export const restart = stopLike('/restart');

export const kill = defineCommand({
  args: ['CONTAINER...'],
  flags: KILL_FLAGS,
  async run(ctx, input) {
    const client = await ctx.daemon();
    const signal = input.str('signal') ?? 'KILL';
    parseSignal(signal);
    return forEach(ctx, input.args, async (n) => void (await client.json('POST', path(n, '/kill'), { query: { signal } })));
  },
});

export const rm = defineCommand({
  args: ['CONTAINER...'],
  flags: RM_FLAGS,
  async run(ctx, input) {
    const client = await ctx.daemon();
    return forEach(ctx, input.args, async (n) => void (await client.json('DELETE', path(n), { query: { force: input.bool('force'), v: input.bool('volumes') } })));
  },
});

export const pause = defineCommand({
  args: ['CONTAINER...'],
  flags: NO_FLAGS,
  async run(ctx, input) {
    const client = await ctx.daemon();
    return forEach(ctx, input.args, async (n) => void (await client.json('POST', path(n, '/pause'))));
  },
});

export const unpause = defineCommand({
  args: ['CONTAINER...'],
  flags: NO_FLAGS,
  async run(ctx, input) {
    const client = await ctx.daemon();
    return forEach(ctx, input.args, async (n) => void (await client.json('POST', path(n, '/unpause'))));
  },
});

export const wait = defineCommand({
  args: ['CONTAINER...'],
  flags: NO_FLAGS,
  async run(ctx, input) {
    const client = await ctx.daemon();
    return forEach(
      ctx,
      input.args,
      async (n) => {
        const result = await (await waitFor(client, n, 'not-running')).exit;
        ctx.out(`${result.code}\n`);
      },
      false,
    );
  },
});

export const rename = defineCommand({
  args: ['CONTAINER', 'NEW_NAME'],
  flags: NO_FLAGS,
  async run(ctx, input) {
    const client = await ctx.daemon();
    const [from = '', to = ''] = input.args;
    await client.json('POST', path(from, '/rename'), { query: { name: to } });
    return 0;
  },
});
