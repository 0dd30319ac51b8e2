/**
 * A Containerfile's text as logical lines, with BuildKit's rules: parser
 * directives (`# escape=`, `# syntax=`, `# check=`) only before anything
 * else; `#` comment lines dropped, also inside continuations; a line ending
 * in the escape character (`\` or `` ` ``) continues on the next one (blank
 * continuation lines are skipped with a warning); leading whitespace of an
 * instruction's first line is dropped, that of continuation lines kept.
 * RUN heredocs (`<<EOF` … `EOF`) collect the lines up to their terminator.
 */
import { syntaxError } from '../errors.ts';

export interface LogicalLine {
  text: string;
  /** 1-based lines the instruction spans (heredoc bodies included). */
  line: number;
  endLine: number;
  heredocs: Heredoc[];
}

export interface Heredoc {
  name: string;
  /** `<<-`: leading tabs are stripped from the body and the terminator. */
  chomp: boolean;
  /** A quoted name (`<<'EOF'`) means the body is not expanded by the shell. */
  quoted: boolean;
  content: string;
}

export interface Directives {
  escape: '\\' | '`';
  syntax?: string;
  check?: string;
}

export interface SplitResult {
  lines: LogicalLine[];
  directives: Directives;
  warnings: string[];
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(['escape', 'syntax', 'check']);
const HEREDOC_WORD = /(?:^|\s)<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2(?=\s|$)/g;
const HEREDOC_INSTRUCTIONS = new Set(['run']);

const isComment = (raw: string): boolean => raw.trimStart().startsWith('#');
const escapeRe = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|`]/g, '\\$&');

class DirectiveScanner {
  readonly directives: Directives = { escape: '\\' };
  private done = false;
  private readonly seen = new Set<string>();
  continuation = /([^\\])\\[ \t]*$|^\\[ \t]*$/;
  private readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  scan(text: string, lineNo: number): void {
    if (this.done) return;
    const m = DIRECTIVE.exec(text);
    const key = m?.[1]?.toLowerCase();
    if (m === null || key === undefined || !KNOWN_DIRECTIVES.has(key)) {
      this.done = true;
      return;
    }
    const value = m[2] ?? '';
    if (this.seen.has(key)) throw syntaxError({ file: this.file, line: lineNo }, undefined, `only one ${key} parser directive can be used`);
    this.seen.add(key);
    if (key === 'escape') {
      if (value !== '\\' && value !== '`') throw syntaxError({ file: this.file, line: lineNo }, undefined, `invalid escape token '${value}' does not match \` or \\`);
      this.directives.escape = value;
      const e = escapeRe(value);
      this.continuation = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
    } else if (key === 'syntax') {
      this.directives.syntax = value;
    } else {
      this.directives.check = value;
    }
  }
}

function physicalLines(text: string): string[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function splitLines(text: string, file: string): SplitResult {
  const raw = physicalLines(text);
  const dir = new DirectiveScanner(file);
  const out: LogicalLine[] = [];
  const warnings: string[] = [];
  let i = 0;
  /** Strips a continuation marker; true when the line does not continue. */
  const trimContinuation = (line: string): [string, boolean] => {
    if (!dir.continuation.test(line)) return [line, true];
    return [line.replace(dir.continuation, '$1'), false];
  };
  while (i < raw.length) {
    const first = (raw[i] ?? '').trimStart();
    const start = ++i;
    dir.scan(first, start);
    if (first.startsWith('#')) continue;
    let [line, ended] = trimContinuation(first);
    if (ended && line.trim() === '') continue;
    let emptyContinuation = false;
    while (!ended && i < raw.length) {
      const next = raw[i] ?? '';
      i++;
      if (isComment(next)) continue;
      if (next.trim() === '') {
        emptyContinuation = true;
        continue;
      }
      let part: string;
      [part, ended] = trimContinuation(next);
      line += part;
    }
    if (emptyContinuation) warnings.push(`${file}:${start}: empty continuation line (an error in a future release of Docker)`);
    const heredocs: Heredoc[] = [];
    const keyword = /^\s*(\S+)/.exec(line)?.[1]?.toLowerCase() ?? '';
    if (HEREDOC_INSTRUCTIONS.has(keyword) && !/^\s*\S+\s+(--\S+\s+)*\[/.test(line)) {
      for (const m of line.matchAll(HEREDOC_WORD)) {
        const doc: Heredoc = { name: m[3] ?? '', chomp: m[1] === '-', quoted: (m[2] ?? '') !== '', content: '' };
        let terminated = false;
        while (i < raw.length) {
          const body = raw[i] ?? '';
          i++;
          if ((doc.chomp ? body.replace(/^\t+/, '') : body) === doc.name) {
            terminated = true;
            break;
          }
          doc.content += `${doc.chomp ? body.replace(/^\t+/, '') : body}\n`;
        }
        if (!terminated) throw syntaxError({ file, line: start }, keyword.toUpperCase(), `unterminated heredoc <<${doc.name}`);
        heredocs.push(doc);
      }
    }
    out.push({ text: line, line: start, endLine: i, heredocs });
  }
  if (out.length === 0) throw syntaxError({ file, line: Math.max(1, raw.length) }, undefined, 'file with no instructions');
  return { lines: out, directives: dir.directives, warnings };
}
