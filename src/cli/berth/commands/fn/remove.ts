/**
 * `berth fn remove [NAME...]`: `DELETE /system/functions` with
 * `{"functionName": NAME}` for each name, or for each function of the
 * stack file when none is named (faas-cli's rm). Every function is tried;
 * the exit code is 1 when one of them failed (a function that is not
 * there is named on stderr).
 */
import { describeError, invalidArgument } from '../../../../errors.ts';
import { defineCommand } from '../../context.ts';
import { clientFor, GATEWAY_FLAG, loadStack, NAMESPACE_FLAG, nsQuery, STACK_FLAGS } from './options.ts';

export default defineCommand({
  args: ['[NAME...]'],
  flags: [GATEWAY_FLAG, NAMESPACE_FLAG, ...STACK_FLAGS],
  async run(ctx, input) {
    const stack = loadStack(input);
    const names = input.args.length > 0 ? [...input.args] : (stack?.functions.map((f) => f.name) ?? []);
    if (names.length === 0) throw invalidArgument('fn_flag_invalid', stack === undefined ? 'name a function, or give a stack file (-f FILE, or stack.yml here)' : `${stack.file}: no functions to remove`);
    const client = clientFor(ctx, input, stack);
    const namespace = input.str('namespace');
    let failed = 0;
    for (const name of names) {
      ctx.out(`Deleting: ${name}.\n`);
      try {
        await client.ok('DELETE', '/system/functions', `function "${name}"`, { json: { functionName: name, ...(namespace === undefined ? {} : { namespace }) }, query: nsQuery(namespace) });
        ctx.out('Removing old function.\n');
      } catch (err) {
        failed++;
        ctx.stderr.write(`berth: ${describeError(err)}\n`);
      }
    }
    return failed === 0 ? 0 : 1;
  },
});
