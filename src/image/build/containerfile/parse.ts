/**
 * A Containerfile as build stages: the ARGs before the first FROM (the
 * global scope, usable in FROM lines), then one stage per FROM with its
 * instructions. Stage names are checked here (lower-case, unique), so a
 * bad file fails before anything is built.
 */
import { syntaxError } from '../errors.ts';
import { parseInstruction, type Instruction } from './instructions.ts';
import { splitLines, type Directives } from './lines.ts';

export type FromInstruction = Extract<Instruction, { kind: 'FROM' }>;
export type ArgInstruction = Extract<Instruction, { kind: 'ARG' }>;

export interface Stage {
  index: number;
  /** The `AS` name, lower-cased. */
  name: string | undefined;
  from: FromInstruction;
  instructions: Instruction[];
}

export interface Containerfile {
  file: string;
  directives: Directives;
  globalArgs: ArgInstruction[];
  stages: Stage[];
  warnings: string[];
}

const STAGE_NAME = /^[a-z][a-z0-9._-]*$/;

export function parseContainerfile(text: string, file: string): Containerfile {
  const { lines, directives, warnings } = splitLines(text, file);
  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  const names = new Map<string, number>();
  for (const line of lines) {
    const ins = parseInstruction(line, file, directives.escape);
    if (ins.kind === 'FROM') {
      if (ins.stageName !== undefined) {
        if (!STAGE_NAME.test(ins.stageName)) throw syntaxError(ins.loc, 'FROM', `invalid stage name "${ins.stageName}" (lower-case letters, digits, "-", "_" and ".", starting with a letter)`);
        const earlier = names.get(ins.stageName);
        if (earlier !== undefined) throw syntaxError(ins.loc, 'FROM', `duplicate stage name "${ins.stageName}" (first defined on line ${earlier})`);
        names.set(ins.stageName, ins.loc.line);
      }
      stages.push({ index: stages.length, name: ins.stageName, from: ins, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (stage === undefined) {
      if (ins.kind !== 'ARG') throw syntaxError(ins.loc, ins.keyword, 'no build stage in current context (only ARG may come before the first FROM)');
      globalArgs.push(ins);
      continue;
    }
    stage.instructions.push(ins);
  }
  if (stages.length === 0) throw syntaxError({ file, line: lines[lines.length - 1]?.line ?? 1 }, undefined, 'no FROM instruction: a Containerfile needs at least one stage');
  if (directives.syntax !== undefined) warnings.push(`${file}: the "# syntax=${directives.syntax}" directive is ignored: berth builds with its own frontend`);
  return { file, directives, globalArgs, stages, warnings };
}
