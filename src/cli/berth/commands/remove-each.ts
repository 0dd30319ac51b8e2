/**
 * What every rm command of berthd's objects does (volumes, networks): each
 * name removed in turn and printed as given, a failure reported without
 * stopping the others; exit 1 when any failed.
 */
import { describeError } from '../../../errors.ts';
import type { CommandContext } from '../context.ts';

export async function removeEach(ctx: CommandContext, names: readonly string[], remove: (name: string) => Promise<unknown>, ignore: (err: unknown) => boolean = () => false): Promise<number> {
  let failed = 0;
  for (const name of names) {
    try {
      await remove(name);
      ctx.out(`${name}\n`);
    } catch (err) {
      if (ignore(err)) continue;
      failed++;
      ctx.stderr.write(`berth: ${describeError(err)}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}
