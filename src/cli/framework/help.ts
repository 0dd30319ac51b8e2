/**
 * Help text, docker-style: a usage line, the summary, the commands or the
 * options in aligned columns, and where to look next. Every level has one:
 * the program, a group, a command.
 */
import type { Command, Entry, Group, Program } from './command.ts';
import { HELP_FLAG, type FlagSpec } from './flags.ts';

function columns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.min(32, Math.max(0, ...rows.map(([left]) => left.length)));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`.trimEnd());
}

export function flagRows(specs: readonly FlagSpec[]): string[] {
  return columns(
    specs.map((s) => {
      const value = s.type === 'bool' ? '' : ` ${s.value ?? (s.type === 'int' ? 'N' : 'VALUE')}`;
      return [`${s.short === undefined ? '    ' : `-${s.short}, `}--${s.name}${value}`, s.help + (s.type === 'list' ? ' (repeatable)' : '')] as const;
    }),
  );
}

function entryRows(entries: readonly Entry<unknown>[]): string[] {
  return columns(entries.map((e) => [e.name, e.summary] as const));
}

export function usageLine<C>(program: Program<C>, path: readonly string[], command: Command<C>): string {
  return [program.name, ...path, ...(command.flags.length > 0 ? ['[OPTIONS]'] : []), ...command.args].join(' ');
}

export function programHelp<C>(program: Program<C>): string {
  const lines = [`Usage: ${program.name} [OPTIONS] COMMAND`, '', program.summary, ''];
  if (program.commands.length > 0) lines.push('Commands:', ...entryRows(program.commands), '');
  if (program.groups.length > 0) {
    lines.push('Management Commands:', ...columns(program.groups.map((g) => [g.name, g.commands.length > 0 ? g.summary : `${g.summary} (no commands yet)`] as const)), '');
  }
  lines.push('Global Options:', ...flagRows([...program.globals, HELP_FLAG]), '');
  lines.push(`Run '${program.name} COMMAND --help' for more information on a command.`);
  if (program.footer !== undefined) lines.push('', program.footer);
  return `${lines.join('\n')}\n`;
}

/** `path`: the words that reach the group (`fn secret`), its name alone by default. */
export function groupHelp<C>(program: Program<C>, group: Group<C>, path: readonly string[] = [group.name]): string {
  const where = [program.name, ...path].join(' ');
  const lines = [`Usage: ${where} COMMAND`, '', group.summary, ''];
  const subgroups = group.groups ?? [];
  if (group.commands.length === 0 && subgroups.length === 0) {
    lines.push(`No commands yet: "${where}" is kept for the commands to come.`);
  } else {
    const aliased = group.commands.map((e) => [e.name, e.summary + (e.aliases?.length ? ` (also: ${e.aliases.join(', ')})` : '')] as const);
    const rows = [...aliased, ...subgroups.map((g) => [g.name, g.summary] as const)].sort(([a], [b]) => a.localeCompare(b));
    lines.push('Commands:', ...columns(rows), '', `Run '${where} COMMAND --help' for more information on a command.`);
  }
  return `${lines.join('\n')}\n`;
}

/** Every way to reach the entry's command (`berth image ls`, `berth image list`, `berth images`). */
function aliases<C>(program: Program<C>, entry: Entry<C>): string[] {
  const names = (prefix: string[], e: Entry<C>): string[] => [e.name, ...(e.aliases ?? [])].map((n) => [program.name, ...prefix, n].join(' '));
  const out: string[] = [];
  for (const g of program.groups) for (const e of g.commands) if (e.load === entry.load) out.push(...names([g.name], e));
  for (const e of program.commands) if (e.load === entry.load) out.push(...names([], e));
  return out;
}

export function commandHelp<C>(program: Program<C>, path: readonly string[], entry: Entry<C>, command: Command<C>): string {
  const lines = [`Usage: ${usageLine(program, path, command)}`, '', entry.summary];
  if (command.description !== undefined) lines.push('', command.description);
  const all = aliases(program, entry);
  if (all.length > 1) lines.push('', 'Aliases:', `  ${all.join(', ')}`);
  // docker's run takes -h for --hostname; --help keeps only its long form there.
  const help = command.flags.some((f) => f.short === HELP_FLAG.short) ? { name: HELP_FLAG.name, type: HELP_FLAG.type, help: HELP_FLAG.help } : HELP_FLAG;
  lines.push('', 'Options:', ...flagRows([...command.flags, help]));
  if (program.dialect.globalsAnywhere) lines.push('', `Global options ('${program.name} --help') may stand anywhere.`);
  return `${lines.join('\n')}\n`;
}
