import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { str } from '../../args.ts';
import { invalidArgument } from '../../../errors.ts';
import { processes } from '../../../runtime/lifecycle/pause.ts';
import type { Command } from '../command.ts';

const command: Command = {
  name: 'ps',
  usage: 'ps [options] ID [ps options]',
  description: 'list the processes of a container (ps(1) lines, or pids as JSON)',
  flags: [{ name: 'format', short: 'f', type: 'string', value: 'table|json', help: 'output format (default table)' }],
  async run(ctx, { flags, rest }) {
    const [id, ...psArgs] = rest;
    if (!id) throw invalidArgument('wrong_args', 'ps: expects ID');
    const format = str(flags, 'format') ?? 'table';
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
};
export default command;
