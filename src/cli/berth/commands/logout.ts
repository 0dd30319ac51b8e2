/** `berth logout REGISTRY|--all` — stored credentials removed from the docker CLI's config.json. */
import { invalidArgument } from '../../../errors.ts';
import { defaultAuthFile, removeAllCredentials, removeCredentials } from '../../../image/registry/credentials.ts';
import { defineCommand } from '../context.ts';
import { registryName } from './login.ts';

export default defineCommand({
  args: ['[REGISTRY]'],
  flags: [{ name: 'all', short: 'a', type: 'bool', help: 'every registry\'s credentials' }],
  async run(ctx, input) {
    const file = ctx.globals.authFile ?? defaultAuthFile();
    const [given] = input.args;
    if (input.bool('all') === (given !== undefined)) throw invalidArgument('wrong_args', 'logout: name a REGISTRY or --all');
    if (given === undefined) {
      await removeAllCredentials(file);
      ctx.out('Removed login credentials for all registries\n');
      return 0;
    }
    const registry = registryName(given);
    if (!(await removeCredentials(registry, file))) throw invalidArgument('not_logged_in', `not logged into ${registry}`);
    ctx.out(`Removed login credentials for ${registry}\n`);
    return 0;
  },
});
