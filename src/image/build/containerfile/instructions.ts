/**
 * One logical line → one typed instruction, checked for its shape (argument
 * count, JSON where JSON is required, the flags it accepts). Variables are
 * not expanded here: that needs the build's state, and happens when the
 * instruction is dispatched.
 */
import { syntaxError, type SourceLocation } from '../errors.ts';
import type { Heredoc, LogicalLine } from './lines.ts';
import { extractFlags, JsonFormError, parseJsonForm, splitQuotedWords, splitWhitespace, type Flag } from './words.ts';

export type CommandForm = { json: true; args: string[] } | { json: false; command: string };

export interface KeyValue {
  key: string;
  /** As written (quotes kept); expanded at dispatch. */
  value: string;
}

interface Common {
  loc: SourceLocation;
  /** The instruction word as written, upper-cased. */
  keyword: string;
  /** The logical line (continuations joined). */
  original: string;
  flags: Flag[];
}

export type Instruction = Common &
  (
    | { kind: 'FROM'; image: string; stageName: string | undefined }
    | { kind: 'RUN'; form: CommandForm; heredocs: Heredoc[] }
    | { kind: 'CMD'; form: CommandForm }
    | { kind: 'ENTRYPOINT'; form: CommandForm }
    | { kind: 'SHELL'; args: string[] }
    | { kind: 'ENV'; pairs: KeyValue[] }
    | { kind: 'LABEL'; pairs: KeyValue[] }
    | { kind: 'ARG'; args: { name: string; value: string | undefined }[] }
    | { kind: 'COPY'; json: boolean; paths: string[] }
    | { kind: 'ADD'; json: boolean; paths: string[] }
    | { kind: 'WORKDIR'; value: string }
    | { kind: 'USER'; value: string }
    | { kind: 'STOPSIGNAL'; value: string }
    | { kind: 'MAINTAINER'; value: string }
    | { kind: 'EXPOSE'; ports: string[] }
    | { kind: 'VOLUME'; paths: string[] }
    | { kind: 'HEALTHCHECK'; test: string[] | undefined }
    | { kind: 'ONBUILD'; trigger: string }
  );

export type InstructionKind = Instruction['kind'];

/** The flags each instruction accepts; `true` marks a boolean flag (`--link` alone means true). */
const FLAGS: Partial<Record<InstructionKind, Record<string, boolean>>> = {
  FROM: { platform: false },
  RUN: { network: false, mount: false, security: false },
  COPY: { from: false, chown: false, chmod: false, link: true, exclude: false, parents: true },
  ADD: { chown: false, chmod: false, link: true, exclude: false, checksum: false, 'keep-git-dir': true },
  HEALTHCHECK: { interval: false, timeout: false, 'start-period': false, 'start-interval': false, retries: false },
};

const KINDS = new Set<string>(['FROM', 'RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'ENV', 'LABEL', 'ARG', 'COPY', 'ADD', 'WORKDIR', 'USER', 'STOPSIGNAL', 'MAINTAINER', 'EXPOSE', 'VOLUME', 'HEALTHCHECK', 'ONBUILD']);

const isKind = (k: string): k is InstructionKind => KINDS.has(k);

export const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkFlags(kind: InstructionKind, flags: Flag[], loc: SourceLocation): void {
  const allowed = FLAGS[kind] ?? {};
  for (const f of flags) {
    const boolean = allowed[f.name];
    if (boolean === undefined) throw syntaxError(loc, kind, `unknown flag: --${f.name}`);
    if (boolean && f.value !== undefined && f.value !== 'true' && f.value !== 'false') {
      throw syntaxError(loc, kind, `--${f.name}: want true or false, got "${f.value}"`);
    }
    if (!boolean && f.value === undefined) throw syntaxError(loc, kind, `--${f.name} needs a value (--${f.name}=VALUE)`);
  }
}

function jsonOrNothing(rest: string, loc: SourceLocation, kind: string): string[] | undefined {
  try {
    return parseJsonForm(rest);
  } catch (err) {
    if (err instanceof JsonFormError) throw syntaxError(loc, kind, err.message);
    throw err;
  }
}

function commandForm(rest: string, loc: SourceLocation, kind: string): CommandForm {
  const json = jsonOrNothing(rest, loc, kind);
  return json === undefined ? { json: false, command: rest } : { json: true, args: json };
}

/** ENV and LABEL: `key=value ...`, or the old `key value with blanks`. */
function nameValues(rest: string, loc: SourceLocation, kind: string, escape: string): KeyValue[] {
  const words = splitQuotedWords(rest, escape);
  const first = words[0];
  if (first === undefined) throw syntaxError(loc, kind, `${kind} requires at least one argument`);
  if (!first.includes('=')) {
    const m = /^(\S+)[\t\v\f\r ]+([\s\S]*)$/.exec(rest);
    if (m === null) throw syntaxError(loc, kind, `${kind} must have two arguments`);
    return [{ key: m[1] ?? '', value: m[2] ?? '' }];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq === -1) throw syntaxError(loc, kind, `syntax error - can't find = in "${w}"; must be of the form: name=value`);
    return { key: w.slice(0, eq), value: w.slice(eq + 1) };
  });
}

function single(rest: string, loc: SourceLocation, kind: string): string {
  if (rest === '') throw syntaxError(loc, kind, `${kind} requires exactly one argument`);
  return rest;
}

export function parseInstruction(line: LogicalLine, file: string, escape: string): Instruction {
  const loc: SourceLocation = { file, line: line.line };
  const m = /^\s*(\S+)(?:\s+([\s\S]*))?$/.exec(line.text);
  const word = (m?.[1] ?? '').toUpperCase();
  if (!isKind(word)) throw syntaxError(loc, undefined, `unknown instruction: ${m?.[1] ?? line.text}`);
  const kind = word;
  const { flags, rest } = extractFlags(m?.[2] ?? '');
  checkFlags(kind, flags, loc);
  const common: Common = { loc, keyword: kind, original: line.text.trim(), flags };
  switch (kind) {
    case 'FROM': {
      const words = splitWhitespace(rest);
      if (words.length === 1) return { ...common, kind, image: words[0] ?? '', stageName: undefined };
      if (words.length === 3 && words[1]?.toUpperCase() === 'AS') return { ...common, kind, image: words[0] ?? '', stageName: words[2]?.toLowerCase() };
      throw syntaxError(loc, kind, 'FROM requires either one or three arguments (FROM IMAGE [AS NAME])');
    }
    case 'RUN':
      if (rest === '') throw syntaxError(loc, kind, 'RUN requires at least one argument');
      return { ...common, kind, form: commandForm(rest, loc, kind), heredocs: line.heredocs };
    case 'CMD':
    case 'ENTRYPOINT':
      if (rest === '') throw syntaxError(loc, kind, `${kind} requires at least one argument`);
      return { ...common, kind, form: commandForm(rest, loc, kind) };
    case 'SHELL': {
      const json = jsonOrNothing(rest, loc, kind);
      if (json === undefined) throw syntaxError(loc, kind, 'SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/sh", "-c"]');
      if (json.length === 0) throw syntaxError(loc, kind, 'SHELL requires at least one argument');
      return { ...common, kind, args: json };
    }
    case 'ENV':
    case 'LABEL':
      return { ...common, kind, pairs: nameValues(rest, loc, kind, escape) };
    case 'ARG': {
      const words = splitQuotedWords(rest, escape);
      if (words.length === 0) throw syntaxError(loc, kind, 'ARG requires at least one argument');
      const args = words.map((w) => {
        const eq = w.indexOf('=');
        const name = eq === -1 ? w : w.slice(0, eq);
        if (!ARG_NAME.test(name)) throw syntaxError(loc, kind, `invalid ARG name "${name}"`);
        return { name, value: eq === -1 ? undefined : w.slice(eq + 1) };
      });
      return { ...common, kind, args };
    }
    case 'COPY':
    case 'ADD': {
      const json = jsonOrNothing(rest, loc, kind);
      const paths = json ?? splitWhitespace(rest);
      if (paths.length < 2) throw syntaxError(loc, kind, `${kind} requires at least two arguments (${kind} SOURCE... DEST)`);
      return { ...common, kind, json: json !== undefined, paths };
    }
    case 'WORKDIR':
    case 'USER':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      return { ...common, kind, value: single(rest, loc, kind) };
    case 'EXPOSE': {
      const ports = splitWhitespace(rest);
      if (ports.length === 0) throw syntaxError(loc, kind, 'EXPOSE requires at least one argument');
      return { ...common, kind, ports };
    }
    case 'VOLUME': {
      const paths = jsonOrNothing(rest, loc, kind) ?? splitWhitespace(rest);
      if (paths.length === 0) throw syntaxError(loc, kind, 'VOLUME requires at least one argument');
      return { ...common, kind, paths };
    }
    case 'HEALTHCHECK':
      return { ...common, kind, test: healthTest(rest, loc) };
    case 'ONBUILD': {
      const trigger = /^\s*(\S+)/.exec(rest)?.[1]?.toUpperCase();
      if (trigger === undefined) throw syntaxError(loc, kind, 'ONBUILD requires at least one argument');
      if (trigger === 'ONBUILD' || trigger === 'FROM' || trigger === 'MAINTAINER') throw syntaxError(loc, kind, `${trigger} is not allowed as an ONBUILD trigger`);
      return { ...common, kind, trigger: rest.trim() };
    }
  }
}

/** HEALTHCHECK NONE → ["NONE"]; HEALTHCHECK CMD x → ["CMD-SHELL", x] or ["CMD", ...]. */
function healthTest(rest: string, loc: SourceLocation): string[] | undefined {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  const type = m?.[1]?.toUpperCase();
  if (type === 'NONE') {
    if ((m?.[2] ?? '') !== '') throw syntaxError(loc, 'HEALTHCHECK', 'HEALTHCHECK NONE takes no arguments');
    return ['NONE'];
  }
  if (type !== 'CMD') throw syntaxError(loc, 'HEALTHCHECK', 'HEALTHCHECK wants CMD or NONE');
  const form = commandForm(m?.[2] ?? '', loc, 'HEALTHCHECK');
  if (form.json) return ['CMD', ...form.args];
  if (form.command === '') throw syntaxError(loc, 'HEALTHCHECK', 'HEALTHCHECK CMD requires a command');
  return ['CMD-SHELL', form.command];
}
