/**
 * `berth inspect [--type container|image] [-f FORMAT] NAME...`, as docker's
 * top-level inspect: each name is looked up as a container (when berthd
 * runs; it is not started for this) and then as an image in the store.
 * `berth image inspect` keeps its own flags (--remote, --raw, --config).
 */
import { ApiClient } from '../../../api/client.ts';
import { invalidArgument, notFound } from '../../../errors.ts';
import { inspectImage } from '../../../image/inspect.ts';
import { defineCommand } from '../context.ts';
import { inspectEach } from './inspect-each.ts';

export default defineCommand({
  args: ['NAME...'],
  flags: [
    { name: 'format', short: 'f', type: 'string', value: 'string', help: 'Format output using a custom template' },
    { name: 'type', type: 'string', value: 'string', help: 'Return JSON for specified type (container or image)' },
  ],
  async run(ctx, input) {
    const type = input.str('type');
    if (type !== undefined && type !== 'container' && type !== 'image') throw invalidArgument('unknown_type', `--type "${type}": want container or image`);
    const paths = ctx.daemonPaths();
    const client = new ApiClient(paths.socket);
    const daemon = type !== 'image' && (await client.ping(1000));
    const lookup = async (name: string): Promise<unknown> => {
      if (daemon) {
        const answer = await client.request('GET', `/containers/${encodeURIComponent(name)}/json`);
        if (answer.status === 200) return JSON.parse(answer.body.toString()) as unknown;
      }
      if (type === 'container') throw notFound('container_not_found', `no such container: ${name}`);
      const store = await ctx.store();
      const img = store.tryResolve(name);
      if (img === undefined) throw notFound('object_not_found', `no such object: ${name}`);
      return inspectImage(store, img);
    };
    return inspectEach(ctx, input.args, lookup, input.str('format'));
  },
});
