import { invalidArgument } from '../../../errors.ts';
import { list } from '../../../runtime/lifecycle/list.ts';
import { defineCommand } from '../context.ts';

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd((widths[c] ?? 0) + 3))).join('')).join('\n') + '\n';
}

export default defineCommand({
  args: [],
  flags: [
    { name: 'format', short: 'f', type: 'string', value: 'table|json', help: 'output format (default table)' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'print only the ids' },
  ],
  async run(ctx, input) {
    const format = input.str('format') ?? 'table';
    if (format !== 'table' && format !== 'json') throw invalidArgument('invalid_format', `list: --format: "${format}" is not table or json`);
    const entries = await list(ctx.runtime);
    if (input.bool('quiet')) {
      ctx.out(entries.map((e) => `${e.id}\n`).join(''));
    } else if (format === 'json') {
      ctx.out(`${JSON.stringify(entries)}\n`);
    } else {
      const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
      for (const e of entries) rows.push([e.id, String(e.pid), e.status, e.bundle, e.created, e.owner]);
      ctx.out(table(rows));
    }
    return 0;
  },
});
