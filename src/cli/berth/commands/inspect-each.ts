/**
 * What every inspect command does (containers, volumes, both with images):
 * each name looked up in turn, a failure reported without stopping the
 * others, the found ones printed as docker's JSON array or through
 * --format; exit 1 when any name or any template failed.
 */
import { describeError } from '../../../errors.ts';
import type { CommandContext } from '../context.ts';
import { renderInspect } from '../format/inspect.ts';

export async function inspectEach(ctx: CommandContext, names: readonly string[], lookup: (name: string) => Promise<unknown>, format: string | undefined): Promise<number> {
  const found: unknown[] = [];
  let failed = 0;
  for (const name of names) {
    try {
      found.push(await lookup(name));
    } catch (err) {
      failed++;
      ctx.stderr.write(`berth: ${describeError(err)}\n`);
    }
  }
  const { out, errors } = renderInspect(found, format);
  ctx.out(out);
  for (const e of errors) ctx.stderr.write(`berth: ${e.message}\n`);
  return failed + errors.length > 0 ? 1 : 0;
}
