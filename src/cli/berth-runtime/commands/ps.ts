import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { invalidArgument } from '../../../errors.ts';
import { processes } from '../../../runtime/lifecycle/pause.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: ['ID', '[PS_OPTION...]'],
  flags: [{ name: 'format', short: 'f', type: 'string', value: 'table|json', help: 'output format (default table)' }],
  async run(ctx, input) {
    const [id = '', ...psArgs] = input.args;
    const format = input.str('format') ?? 'table';
    if (format !== 'table' && format !== 'json') throw invalidArgument('invalid_format', `ps: --format: "${format}" is not table or json`);
    const pids = await processes(ctx.runtime, id);
    if (format === 'json') {
      ctx.out(`${JSON.stringify(pids)}\n`);
      return 0;
    }
    const { stdout } = await promisify(execFile)('ps', psArgs.length ? psArgs : ['-ef']);
    const lines = stdout.split('\n').filter((l) => l.length > 0);
    const header = lines[0] ?? '';
    const pidColumn = header.trim().split(/\s+/).indexOf('PID');
    if (pidColumn < 0) throw invalidArgument('ps_no_pid', 'ps: the ps options must keep the PID column');
    const wanted = new Set(pids.map(String));
    const body = lines.slice(1).filter((l) => wanted.has(l.trim().split(/\s+/)[pidColumn] ?? ''));
    ctx.out(`${[header, ...body].join('\n')}\n`);
    return 0;
  },
});
