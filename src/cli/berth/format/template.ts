/**
 * The part of Go's text/template that docker's `--format` is used with:
 * `{{.Field}}` and chains (`{{.State.Status}}`), methods with arguments
 * (`{{.Label "k"}}`), variables (`$`, `{{range $k, $v := .Labels}}`),
 * pipelines and parentheses, `if`/`else if`/`else`, `range` (lists, maps in
 * key order, with `else`), `with`, trim markers (`{{- x -}}`), comments,
 * Go's builtins (and, or, not, len, index, print, printf, println, eq, ne,
 * lt, le, gt, ge) and docker's (json, split, join, title, lower, upper,
 * pad, truncate). Errors read as Go's (`template: :1:2: executing "" at
 * <.Foo>: can't evaluate field Foo in type ...`).
 *
 * Data model: a JS `Map` is a Go map (a missing key prints `<no value>`,
 * ranged in key order); a plain object is a Go struct (an unknown field is
 * an error) whose function-valued properties are its methods; arrays are
 * slices; null is nil.
 *
 * Written here rather than taken from npm: the one maintained package
 * (@ctrl/golang-template) covers fields, if, range and join only, reports
 * no errors and says itself it is not meant for user input; docker's
 * --format needs methods, variables, pipelines, builtins and Go's errors.
 */

/** A map key that is not there, printed as Go prints it. */
export const NO_VALUE: unique symbol = Symbol('no value');

export type Funcs = Record<string, (...args: unknown[]) => unknown>;

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

type Arg =
  | { k: 'field'; chain: string[]; pos: number; text: string }
  | { k: 'var'; name: string; chain: string[]; pos: number; text: string }
  | { k: 'ident'; name: string; pos: number; text: string }
  | { k: 'lit'; value: unknown; pos: number; text: string }
  | { k: 'pipe'; pipe: Pipe; chain: string[]; pos: number; text: string };
interface Cmd {
  args: Arg[];
  pos: number;
}
interface Pipe {
  /** The pipeline's source text, for errors. */
  text: string;
  decl: string[];
  /** `=` assigns to declared variables; `:=` declares. */
  assign: boolean;
  cmds: Cmd[];
  pos: number;
}
type Node =
  | { k: 'text'; text: string }
  | { k: 'action'; pipe: Pipe }
  | { k: 'if' | 'with' | 'range'; pipe: Pipe; list: Node[]; elseList: Node[] | undefined; pos: number }
  | { k: 'break' | 'continue'; pos: number };

// ---------------------------------------------------------------- lexing

interface Token {
  t: 'field' | 'var' | 'ident' | 'string' | 'number' | 'char' | 'pipe' | 'lparen' | 'rparen' | 'decl' | 'assign' | 'comma' | 'dotchain';
  v: string;
  pos: number;
}

type Items = Generator<{ kind: 'text'; text: string } | { kind: 'action'; tokens: Token[]; pos: number }>;

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block', 'true', 'false', 'nil']);

const lineOf = (src: string, pos: number): number => src.slice(0, pos).split('\n').length;

class Parser {
  private readonly src: string;
  private readonly funcs: Funcs;
  private pos = 0;

  constructor(src: string, funcs: Funcs) {
    this.src = src;
    this.funcs = funcs;
  }

  private fail(pos: number, msg: string): never {
    throw new TemplateError(`template: :${lineOf(this.src, pos)}: ${msg}`);
  }

  /** Splits the source into text and action token lists. */
  private *items(): Items {
    const src = this.src;
    let trimNext = false;
    while (this.pos <= src.length) {
      const open = src.indexOf('{{', this.pos);
      let text = src.slice(this.pos, open === -1 ? undefined : open);
      if (trimNext) text = text.replace(/^\s+/, '');
      if (open === -1) {
        if (text !== '') yield { kind: 'text', text };
        return;
      }
      let start = open + 2;
      // "{{- ": trim the white space before.
      if (src[start] === '-' && /\s/.test(src[start + 1] ?? '')) {
        text = text.replace(/\s+$/, '');
        start += 1;
      }
      if (text !== '') yield { kind: 'text', text };
      if (src.startsWith('/*', start + (src[start] === ' ' ? 1 : 0))) {
        const end = src.indexOf('*/', start);
        if (end === -1) this.fail(open, 'unclosed comment');
        const close = /^\s*(-\s*)?}}/.exec(src.slice(end + 2));
        if (close === null) this.fail(open, 'comment ends before closing delimiter');
        trimNext = close[1] !== undefined;
        this.pos = end + 2 + close[0].length;
        continue;
      }
      const { tokens, end, trim } = this.lexAction(start, open);
      trimNext = trim;
      this.pos = end;
      yield { kind: 'action', tokens, pos: start };
    }
  }

  private lexAction(start: number, open: number): { tokens: Token[]; end: number; trim: boolean } {
    const src = this.src;
    const tokens: Token[] = [];
    let i = start;
    const word = /[A-Za-z_][A-Za-z0-9_]*/y;
    for (;;) {
      if (i >= src.length) this.fail(open, 'unclosed action');
      const c = src[i] ?? '';
      if (/\s/.test(c)) {
        // " -}}": trim what follows.
        if (src.startsWith('-}}', i + 1)) return { tokens, end: i + 4, trim: true };
        i++;
        continue;
      }
      if (src.startsWith('}}', i)) return { tokens, end: i + 2, trim: false };
      const pos = i;
      if (c === '|') {
        tokens.push({ t: 'pipe', v: c, pos });
        i++;
      } else if (c === '(') {
        tokens.push({ t: 'lparen', v: c, pos });
        i++;
      } else if (c === ')') {
        tokens.push({ t: 'rparen', v: c, pos });
        i++;
      } else if (c === ',') {
        tokens.push({ t: 'comma', v: c, pos });
        i++;
      } else if (src.startsWith(':=', i)) {
        tokens.push({ t: 'decl', v: ':=', pos });
        i += 2;
      } else if (c === '=') {
        tokens.push({ t: 'assign', v: '=', pos });
        i++;
      } else if (c === '"') {
        let j = i + 1;
        while (j < src.length && src[j] !== '"') {
          if (src[j] === '\\') j++;
          if (src[j] === '\n') this.fail(pos, 'unterminated quoted string');
          j++;
        }
        if (j >= src.length) this.fail(pos, 'unterminated quoted string');
        tokens.push({ t: 'string', v: src.slice(i, j + 1), pos });
        i = j + 1;
      } else if (c === '`') {
        const j = src.indexOf('`', i + 1);
        if (j === -1) this.fail(pos, 'unterminated raw quoted string');
        tokens.push({ t: 'string', v: src.slice(i, j + 1), pos });
        i = j + 1;
      } else if (c === "'") {
        const m = /^'(\\.|[^\\'])'/.exec(src.slice(i));
        if (m === null) this.fail(pos, 'unterminated character constant');
        tokens.push({ t: 'char', v: m[0], pos });
        i += m[0].length;
      } else if (/[-+0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
        const m = /^[-+]?(0[xX][0-9a-fA-F_]+|(\d[\d_]*)?\.?\d*([eE][-+]?\d+)?)/.exec(src.slice(i));
        if (m === null || m[0] === '' || m[0] === '-' || m[0] === '+') this.fail(pos, `bad number syntax: "${c}"`);
        tokens.push({ t: 'number', v: m[0], pos });
        i += m[0].length;
      } else if (c === '.' || c === '$') {
        // ".", ".A.B", "$", "$x.A"
        let j = i + 1;
        if (c === '$') {
          word.lastIndex = j;
          const m = word.exec(src);
          if (m !== null) j += m[0].length;
        } else {
          word.lastIndex = j;
          const m = word.exec(src);
          if (m !== null) j += m[0].length;
        }
        for (;;) {
          if (src[j] !== '.') break;
          word.lastIndex = j + 1;
          const m = word.exec(src);
          if (m === null) break;
          j += 1 + m[0].length;
        }
        const text = src.slice(i, j);
        const prev = tokens.at(-1);
        // "(pipeline).Field": a chain on a parenthesized value.
        if (c === '.' && prev?.t === 'rparen' && prev.pos + 1 === i) tokens.push({ t: 'dotchain', v: text, pos });
        else tokens.push({ t: c === '$' ? 'var' : 'field', v: text, pos });
        i = j;
      } else {
        word.lastIndex = i;
        const m = word.exec(src);
        if (m === null) this.fail(pos, `unexpected "${c}" in command`);
        tokens.push({ t: 'ident', v: m[0], pos });
        i += m[0].length;
      }
    }
  }

  parse(): Node[] {
    const items = this.items();
    const [list, end] = this.parseList(items, 0);
    if (end !== undefined) this.fail(end.pos, `unexpected {{${end.word}}}`);
    return list;
  }

  /** Nodes up to an {{end}} or {{else}} (returned) or the end of input. */
  private parseList(
    items: Items,
    depth: number,
  ): [Node[], { word: 'end' | 'else'; tokens: Token[]; pos: number } | undefined] {
    const list: Node[] = [];
    for (;;) {
      const next = items.next();
      if (next.done === true) {
        if (depth > 0) this.fail(this.src.length, 'unexpected EOF');
        return [list, undefined];
      }
      const item = next.value;
      if (item.kind === 'text') {
        list.push({ k: 'text', text: item.text });
        continue;
      }
      const [first, ...rest] = item.tokens;
      if (first === undefined) this.fail(item.pos, 'missing value for command');
      if (first.t === 'ident' && (first.v === 'end' || first.v === 'else')) {
        if (depth === 0) this.fail(item.pos, `unexpected {{${first.v}}}`);
        return [list, { word: first.v, tokens: rest, pos: item.pos }];
      }
      if (first.t === 'ident' && (first.v === 'if' || first.v === 'with' || first.v === 'range')) {
        list.push(this.parseControl(first.v, rest, item.pos, items, depth));
        continue;
      }
      if (first.t === 'ident' && (first.v === 'break' || first.v === 'continue')) {
        list.push({ k: first.v, pos: item.pos });
        continue;
      }
      if (first.t === 'ident' && ['define', 'template', 'block'].includes(first.v)) this.fail(item.pos, `{{${first.v}}} is not supported here`);
      list.push({ k: 'action', pipe: this.parsePipe(item.tokens, item.pos) });
    }
  }

  private parseControl(
    kind: 'if' | 'with' | 'range',
    tokens: Token[],
    pos: number,
    items: Items,
    depth: number,
  ): Node {
    if (tokens.length === 0) this.fail(pos, `missing value for ${kind}`);
    const pipe = this.parsePipe(tokens, pos);
    const [list, end] = this.parseList(items, depth + 1);
    let elseList: Node[] | undefined;
    if (end?.word === 'else') {
      const [head] = end.tokens;
      if (head?.t === 'ident' && (head.v === 'if' || head.v === 'with')) {
        // {{else if x}}: an if inside the else, sharing its {{end}}.
        elseList = [this.parseControl(head.v, end.tokens.slice(1), end.pos, items, depth)];
      } else {
        if (end.tokens.length > 0) this.fail(end.pos, 'unexpected tokens after else');
        const [rest, last] = this.parseList(items, depth + 1);
        if (last?.word !== 'end') this.fail(last?.pos ?? pos, 'expected end; found {{else}}');
        elseList = rest;
      }
    }
    return { k: kind, pipe, list, elseList, pos };
  }

  private parsePipe(tokens: Token[], pos: number): Pipe {
    let i = 0;
    const decl: string[] = [];
    let assign = false;
    // "$x :=", "$k, $v :=", "$x ="
    const declEnd = tokens.findIndex((t) => t.t === 'decl' || t.t === 'assign');
    if (declEnd > 0 && tokens.slice(0, declEnd).every((t, n) => (n % 2 === 0 ? t.t === 'var' && !t.v.includes('.', 1) : t.t === 'comma'))) {
      for (let n = 0; n < declEnd; n += 2) decl.push(tokens[n]?.v ?? '');
      assign = tokens[declEnd]?.t === 'assign';
      i = declEnd + 1;
    }
    const cmds: Cmd[] = [];
    let args: Arg[] = [];
    let cmdPos = tokens[i]?.pos ?? pos;
    for (; i < tokens.length; i++) {
      const tok = tokens[i];
      if (tok === undefined) break;
      if (tok.t === 'pipe') {
        if (args.length === 0) this.fail(tok.pos, 'missing command');
        cmds.push({ args, pos: cmdPos });
        args = [];
        cmdPos = tokens[i + 1]?.pos ?? tok.pos;
        continue;
      }
      if (tok.t === 'lparen') {
        let level = 1;
        let j = i + 1;
        for (; j < tokens.length && level > 0; j++) {
          if (tokens[j]?.t === 'lparen') level++;
          if (tokens[j]?.t === 'rparen') level--;
        }
        if (level > 0) this.fail(tok.pos, 'unclosed left paren');
        const inner = this.parsePipe(tokens.slice(i + 1, j - 1), tok.pos);
        let chain: string[] = [];
        const after = tokens[j];
        if (after?.t === 'dotchain') {
          chain = after.v.slice(1).split('.');
          j++;
        }
        const text = this.src.slice(tok.pos, (tokens[j - 1]?.pos ?? tok.pos) + (tokens[j - 1]?.v.length ?? 1));
        args.push({ k: 'pipe', pipe: inner, chain, pos: tok.pos, text });
        i = j - 1;
        continue;
      }
      args.push(this.operand(tok));
    }
    if (args.length === 0) this.fail(pos, tokens.length === 0 ? 'missing value for command' : 'missing command');
    cmds.push({ args, pos: cmdPos });
    const first = tokens[0];
    const last = tokens.at(-1);
    const text = first === undefined || last === undefined ? '' : this.src.slice(first.pos, last.pos + last.v.length);
    return { text, decl, assign, cmds, pos: first?.pos ?? pos };
  }

  private operand(tok: Token): Arg {
    const { pos, v: text } = tok;
    switch (tok.t) {
      case 'field':
        return { k: 'field', chain: text === '.' ? [] : text.slice(1).split('.'), pos, text };
      case 'var': {
        const [name = '$', ...chain] = text.split('.');
        return { k: 'var', name, chain, pos, text };
      }
      case 'string':
        return { k: 'lit', value: text.startsWith('`') ? text.slice(1, -1) : this.unquote(text, pos), pos, text };
      case 'char':
        return { k: 'lit', value: this.unquote(`"${text.slice(1, -1)}"`, pos).codePointAt(0), pos, text };
      case 'number': {
        const n = Number(text.replace(/_/g, ''));
        if (Number.isNaN(n)) this.fail(pos, `bad number syntax: "${text}"`);
        return { k: 'lit', value: n, pos, text };
      }
      case 'ident':
        if (text === 'true' || text === 'false') return { k: 'lit', value: text === 'true', pos, text };
        if (text === 'nil') return { k: 'lit', value: null, pos, text };
        if (KEYWORDS.has(text)) this.fail(pos, `unexpected <${text}> in command`);
        if (!Object.hasOwn(this.funcs, text)) this.fail(pos, `function "${text}" not defined`);
        return { k: 'ident', name: text, pos, text };
      default:
        this.fail(pos, `unexpected "${text}" in operand`);
    }
  }

  private unquote(text: string, pos: number): string {
    try {
      const json = text.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\'/g, "'").replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b');
      const value: unknown = JSON.parse(json);
      if (typeof value === 'string') return value;
    } catch {
      // reported below
    }
    this.fail(pos, `invalid syntax: ${text}`);
  }
}

// ------------------------------------------------------------ evaluation

/** `{{break}}` and `{{continue}}` unwind to their range as exceptions. */
class Break extends Error {}
class Continue extends Error {}

function isStruct(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);
}

/** Go's name for a value's type, in errors. */
export function goType(v: unknown): string {
  if (v === null || v === undefined || v === NO_VALUE) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'bigint') return 'int64';
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Map) return 'map[string]interface {}';
  if (isStruct(v)) {
    const name = (v as { [TYPE_NAME]?: unknown })[TYPE_NAME];
    return typeof name === 'string' ? name : 'struct';
  }
  return typeof v;
}

/** A struct may name its Go type for errors (`*formatter.ContainerContext`). */
export const TYPE_NAME: unique symbol = Symbol('go type name');

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false. */
export function truth(v: unknown): boolean {
  if (v === NO_VALUE || v === null || v === undefined || v === false || v === 0 || v === 0n || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true;
}

/** Go's %v of a number: integers whole (typed int64 fields), floats as Go's shortest %g (an exponent from 1e+06 and below 1e-04). */
function goNumber(n: number): string {
  if (Number.isInteger(n)) return BigInt(n).toString();
  const [mantissa = '', exp = '0'] = n.toExponential().split('e');
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(n);
}

/** Go's fmt %v. */
export function printValue(v: unknown): string {
  if (v === NO_VALUE) return '<no value>';
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(printValue).join(' ')}]`;
  if (v instanceof Map) {
    const keys = [...v.keys()].map(String).sort();
    return `map[${keys.map((k) => `${k}:${printValue(v.get(k))}`).join(' ')}]`;
  }
  if (isStruct(v)) {
    const stringer = v['String'];
    if (typeof stringer === 'function') return printValue(stringer.call(v));
    return `{${Object.values(v).filter((x) => typeof x !== 'function').map(printValue).join(' ')}}`;
  }
  return typeof v === 'symbol' || typeof v === 'function' ? typeof v : '<nil>';
}

/** JSON text a MarshalJSON method returns, spliced in as it is (Go's []byte from a Marshaler). */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

const HTML = /[<>&]/g;

/** encoding/json: maps with sorted keys, methods left out, Marshalers asked; `escapeHtml` as json.Marshal does by default. */
export function encodeJson(v: unknown, escapeHtml = false): string {
  if (v instanceof RawJson) return v.text;
  if (v === NO_VALUE || v === undefined || v === null) return 'null';
  if (typeof v === 'string') {
    const text = JSON.stringify(v).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
    return escapeHtml ? text.replace(HTML, (c) => `\\u00${(c.codePointAt(0) ?? 0).toString(16)}`) : text;
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => encodeJson(x, escapeHtml)).join(',')}]`;
  const pairs = (entries: [string, unknown][]): string => `{${entries.map(([k, x]) => `${encodeJson(k, escapeHtml)}:${encodeJson(x, escapeHtml)}`).join(',')}}`;
  if (v instanceof Map) return pairs([...v.keys()].map(String).sort().map((k) => [k, v.get(k)]));
  if (isStruct(v)) {
    // A struct with its own marshaling (json tags, docker's formatter contexts) says how it looks.
    const marshal = v['MarshalJSON'];
    if (typeof marshal === 'function') return encodeJson(marshal.call(v), escapeHtml);
    return pairs(Object.entries(v).filter(([, x]) => typeof x !== 'function'));
  }
  return 'null';
}

/**
 * docker's formatter contexts marshal through json.Marshal of a map: the
 * method results under sorted keys, HTML characters escaped ("->" is
 * "-\u003e" in `ps --format '{{json .}}'`).
 */
export function marshalContext(this: Record<string, unknown>): RawJson {
  const entries = Object.entries(this).filter(([, x]) => typeof x !== 'function').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new RawJson(encodeJson(new Map(entries), true));
}

/** docker's `json` function: compact, HTML characters left as they are. */
export function goJson(v: unknown): string {
  return encodeJson(v);
}

function want(_name: string, v: unknown, type: 'string' | 'int' | '[]string'): void {
  const ok =
    type === 'string' ? typeof v === 'string' : type === 'int' ? typeof v === 'number' && Number.isInteger(v) : Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (!ok) throw new TemplateError(`wrong type for value; expected ${type}; got ${goType(v)}`);
}

function arity(name: string, args: unknown[], n: number): void {
  if (args.length !== n) throw new TemplateError(`wrong number of args for ${name}: want ${n} got ${args.length}`);
}

function basicCompare(name: string, a: unknown, b: unknown): number {
  const kind = (x: unknown): string => (typeof x === 'bigint' ? 'number' : typeof x);
  if (kind(a) !== kind(b) || !['string', 'number', 'boolean'].includes(kind(a))) {
    if (a === null && b === null) return 0;
    throw new TemplateError(`error calling ${name}: incompatible types for comparison`);
  }
  if (typeof a === 'boolean') {
    if (name !== 'eq' && name !== 'ne') throw new TemplateError(`error calling ${name}: invalid type for comparison`);
    return a === b ? 0 : 1;
  }
  const x = a as string | number;
  const y = b as string | number;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Go's fmt.Sprint: a space between operands when neither is a string. */
function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += printValue(a);
  });
  return out;
}

/** The verbs of Go's fmt that format strings use: %s %v %d %q %x %X %f %e %g %t %%, with flags, width and precision. */
export function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  return format.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (_m, flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const a = args[n++];
    let s: string;
    switch (verb) {
      case 'd':
        s = typeof a === 'number' || typeof a === 'bigint' ? String(typeof a === 'number' ? Math.trunc(a) : a) : `%!d(${goType(a)}=${printValue(a)})`;
        break;
      case 'f':
      case 'F':
        s = typeof a === 'number' ? a.toFixed(prec === undefined ? 6 : Number(prec)) : `%!f(${goType(a)}=${printValue(a)})`;
        break;
      case 'e':
        s = typeof a === 'number' ? a.toExponential(prec === undefined ? 6 : Number(prec)).replace(/e([+-])(\d)$/, 'e$10$2') : `%!e(${goType(a)}=${printValue(a)})`;
        break;
      case 'q':
        s = JSON.stringify(printValue(a));
        break;
      case 'x':
      case 'X': {
        const hex = typeof a === 'number' ? a.toString(16) : Buffer.from(printValue(a)).toString('hex');
        s = verb === 'X' ? hex.toUpperCase() : hex;
        break;
      }
      case 't':
        s = typeof a === 'boolean' ? String(a) : `%!t(${goType(a)}=${printValue(a)})`;
        break;
      default:
        s = printValue(a);
        if ((verb === 's' || verb === 'v') && prec !== undefined) s = [...s].slice(0, Number(prec)).join('');
    }
    const w = width === undefined ? 0 : Number(width);
    const pad = Math.max(0, w - [...s].length);
    if (flags.includes('-')) return s + ' '.repeat(pad);
    return (flags.includes('0') && verb !== 's' ? '0' : ' ').repeat(pad) + s;
  });
}

function indexOf(item: unknown, keys: unknown[]): unknown {
  let v = item;
  for (const k of keys) {
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof k !== 'number' || !Number.isInteger(k)) throw new TemplateError(`error calling index: cannot index slice/array with type ${goType(k)}`);
      if (k < 0 || k >= v.length) throw new TemplateError(`error calling index: index out of range: ${k}`);
      v = typeof v === 'string' ? Buffer.from(v)[k] : v[k];
    } else if (v instanceof Map) {
      // A missing key gives the zero value; docker's maps hold strings.
      v = v.has(k) ? v.get(k) : '';
    } else if (v === null || v === NO_VALUE) {
      throw new TemplateError('error calling index: index of untyped nil');
    } else {
      throw new TemplateError(`error calling index: can't index item of type ${goType(v)}`);
    }
  }
  return v;
}

/** Go's builtins and docker's template functions. */
export const FUNCS: Funcs = {
  and: (...a) => a.find((x) => !truth(x)) ?? a.at(-1),
  or: (...a) => a.find((x) => truth(x)) ?? a.at(-1),
  not: (...a) => (arity('not', a, 1), !truth(a[0])),
  len: (...a) => {
    arity('len', a, 1);
    const [v] = a;
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (Array.isArray(v)) return v.length;
    if (v instanceof Map) return v.size;
    throw new TemplateError(`error calling len: len of type ${goType(v)}`);
  },
  index: (item, ...keys) => indexOf(item, keys),
  print: (...a) => sprint(a),
  println: (...a) => `${a.map(printValue).join(' ')}\n`,
  printf: (format, ...a) => (want('printf', format, 'string'), sprintf(format as string, a)),
  eq: (a, ...bs) => {
    if (bs.length === 0) throw new TemplateError('missing argument for comparison');
    return bs.some((b) => basicCompare('eq', a, b) === 0);
  },
  ne: (...a) => (arity('ne', a, 2), basicCompare('ne', a[0], a[1]) !== 0),
  lt: (...a) => (arity('lt', a, 2), basicCompare('lt', a[0], a[1]) < 0),
  le: (...a) => (arity('le', a, 2), basicCompare('le', a[0], a[1]) <= 0),
  gt: (...a) => (arity('gt', a, 2), basicCompare('gt', a[0], a[1]) > 0),
  ge: (...a) => (arity('ge', a, 2), basicCompare('ge', a[0], a[1]) >= 0),
  json: (...a) => (arity('json', a, 1), goJson(a[0])),
  split: (...a) => {
    arity('split', a, 2);
    want('split', a[0], 'string');
    want('split', a[1], 'string');
    const [s, sep] = a as [string, string];
    return sep === '' ? [...s] : s.split(sep);
  },
  join: (...a) => {
    arity('join', a, 2);
    want('join', a[0], '[]string');
    want('join', a[1], 'string');
    return (a[0] as string[]).join(a[1] as string);
  },
  title: (...a) => (arity('title', a, 1), want('title', a[0], 'string'), (a[0] as string).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase())),
  lower: (...a) => (arity('lower', a, 1), want('lower', a[0], 'string'), (a[0] as string).toLowerCase()),
  upper: (...a) => (arity('upper', a, 1), want('upper', a[0], 'string'), (a[0] as string).toUpperCase()),
  pad: (...a) => {
    arity('pad', a, 3);
    want('pad', a[0], 'string');
    want('pad', a[1], 'int');
    want('pad', a[2], 'int');
    const [s, pre, post] = a as [string, number, number];
    return s === '' ? s : ' '.repeat(pre) + s + ' '.repeat(post);
  },
  truncate: (...a) => {
    arity('truncate', a, 2);
    want('truncate', a[0], 'string');
    want('truncate', a[1], 'int');
    const [s, n] = a as [string, number];
    const bytes = Buffer.from(s);
    return bytes.length < n ? s : bytes.subarray(0, n).toString();
  },
};

/** docker's HeaderFunctions: in a table's header row these leave the column name as it is. */
export const HEADER_FUNCS: Funcs = {
  ...FUNCS,
  json: (v) => v,
  split: (v) => v,
  join: (v) => v,
  title: (v) => v,
  lower: (v) => v,
  upper: (v) => v,
  truncate: (v) => v,
};

interface State {
  src: string;
  funcs: Funcs;
  vars: [string, unknown][];
  out: string[];
  missingKey: 'default' | 'error';
}

class Exec {
  private readonly s: State;

  constructor(s: State) {
    this.s = s;
  }

  private fail(node: { pos: number; text?: string }, msg: string): never {
    const { src } = this.s;
    const before = src.slice(0, node.pos);
    const line = before.split('\n').length;
    const col = node.pos - (before.lastIndexOf('\n') + 1);
    // Go shows at most 20 characters of the node.
    const context = node.text === undefined ? undefined : node.text.length > 20 ? `${node.text.slice(0, 20)}...` : node.text;
    const at = context === undefined ? '' : ` at <${context}>`;
    throw new TemplateError(`template: :${line}:${col}: executing ""${at}: ${msg}`);
  }

  private wrap<T>(node: { pos: number; text?: string }, f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof TemplateError && !err.message.startsWith('template: ')) this.fail(node, err.message);
      throw err;
    }
  }

  run(list: Node[], dot: unknown): void {
    for (const node of list) this.node(node, dot);
  }

  private node(node: Node, dot: unknown): void {
    switch (node.k) {
      case 'text':
        this.s.out.push(node.text);
        return;
      case 'action': {
        const v = this.pipe(node.pipe, dot);
        if (node.pipe.decl.length === 0) this.s.out.push(printValue(v));
        return;
      }
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
      case 'if':
      case 'with': {
        const mark = this.s.vars.length;
        const v = this.pipe(node.pipe, dot);
        if (truth(v)) this.run(node.list, node.k === 'with' ? v : dot);
        else if (node.elseList !== undefined) this.run(node.elseList, dot);
        this.s.vars.length = mark;
        return;
      }
      case 'range':
        this.range(node, dot);
    }
  }

  private range(node: { pipe: Pipe; list: Node[]; elseList: Node[] | undefined; pos: number }, dot: unknown): void {
    const mark = this.s.vars.length;
    const decl = node.pipe.decl;
    const v = this.pipe({ ...node.pipe, decl: [] }, dot);
    let entries: [unknown, unknown][];
    if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
    else if (v instanceof Map) entries = [...v.keys()].sort().map((k) => [k, v.get(k)]);
    else if (typeof v === 'number' && Number.isInteger(v)) entries = Array.from({ length: Math.max(0, v) }, (_x, i) => [i, i]);
    else if (v === null || v === NO_VALUE || v === undefined) entries = [];
    else this.fail({ pos: node.pipe.pos, text: `{{range ${node.pipe.text}}}` }, `range can't iterate over ${printValue(v)}`);
    if (entries.length === 0) {
      if (node.elseList !== undefined) this.run(node.elseList, dot);
      this.s.vars.length = mark;
      return;
    }
    for (const [k, x] of entries) {
      this.s.vars.length = mark;
      if (decl.length === 1) this.s.vars.push([decl[0] ?? '', x]);
      if (decl.length === 2) this.s.vars.push([decl[0] ?? '', k], [decl[1] ?? '', x]);
      try {
        this.run(node.list, x);
      } catch (err) {
        if (err instanceof Break) break;
        if (err instanceof Continue) continue;
        throw err;
      }
    }
    this.s.vars.length = mark;
  }

  private pipe(pipe: Pipe, dot: unknown): unknown {
    let value: unknown = undefined;
    let first = true;
    for (const cmd of pipe.cmds) {
      value = this.command(cmd, dot, first ? [] : [value]);
      first = false;
    }
    for (const name of pipe.decl) {
      if (pipe.assign) {
        const slot = this.s.vars.findLast(([n]) => n === name);
        if (slot === undefined) this.fail({ pos: pipe.pos }, `undefined variable: ${name}`);
        slot[1] = value;
      } else {
        this.s.vars.push([name, value]);
      }
    }
    return value;
  }

  private command(cmd: Cmd, dot: unknown, piped: unknown[]): unknown {
    const [head, ...rest] = cmd.args;
    if (head === undefined) this.fail({ pos: cmd.pos }, 'empty command');
    const args = (): unknown[] => [...rest.map((a) => this.arg(a, dot)), ...piped];
    if (head.k === 'ident' && (head.name === 'and' || head.name === 'or') && this.s.funcs[head.name] === FUNCS[head.name]) {
      // Go 1.18: and/or stop at the first argument that decides (`and .State.Health .State.Health.Status`).
      const operands = [...rest.map((a) => () => this.arg(a, dot)), ...piped.map((p) => () => p)];
      if (operands.length === 0) this.fail(head, `wrong number of args for ${head.name}: want at least 1 got 0`);
      let v: unknown;
      for (const operand of operands) {
        v = operand();
        if (truth(v) === (head.name === 'or')) return v;
      }
      return v;
    }
    if (head.k === 'ident') {
      const f = this.s.funcs[head.name];
      if (f === undefined) this.fail(head, `"${head.name}" is not a defined function`);
      return this.wrap(head, () => f(...args()));
    }
    if (head.k === 'lit' && head.value === null) this.fail(head, 'nil is not a command');
    if (rest.length === 0 && piped.length === 0) return this.arg(head, dot);
    if (head.k === 'lit') this.fail(head, `can't give argument to non-function ${head.text}`);
    return this.arg(head, dot, args());
  }

  private variable(name: string, node: Arg): unknown {
    const slot = this.s.vars.findLast(([n]) => n === name);
    if (slot === undefined) this.fail(node, `undefined variable: ${name}`);
    return slot[1];
  }

  /** An operand's value; `callArgs` go to its last field when that is a method. */
  private arg(a: Arg, dot: unknown, callArgs: unknown[] = []): unknown {
    switch (a.k) {
      case 'lit':
        return a.value;
      case 'ident': {
        const f = this.s.funcs[a.name];
        if (f === undefined) this.fail(a, `"${a.name}" is not a defined function`);
        return this.wrap(a, () => f(...callArgs));
      }
      case 'field':
        return this.chain(a, dot, a.chain, callArgs);
      case 'var':
        return this.chain(a, this.variable(a.name, a), a.chain, callArgs);
      case 'pipe':
        return this.chain(a, this.pipe(a.pipe, dot), a.chain, callArgs);
    }
  }

  private chain(node: Arg, start: unknown, chain: string[], callArgs: unknown[]): unknown {
    if (chain.length === 0 && callArgs.length > 0) this.fail(node, `can't give argument to non-function ${node.text}`);
    let v = start;
    chain.forEach((name, i) => {
      v = this.field(node, v, name, i === chain.length - 1 ? callArgs : []);
    });
    return v;
  }

  private field(node: Arg, recv: unknown, name: string, args: unknown[]): unknown {
    if (recv instanceof Map) {
      if (args.length > 0) this.fail(node, `${name} is not a method but has arguments`);
      if (!recv.has(name) && this.s.missingKey === 'error') this.fail(node, `map has no entry for key "${name}"`);
      return recv.has(name) ? recv.get(name) : NO_VALUE;
    }
    if (isStruct(recv)) {
      if (!Object.hasOwn(recv, name) && typeof recv[name] !== 'function') this.fail(node, `can't evaluate field ${name} in type ${goType(recv)}`);
      const v = recv[name];
      if (typeof v === 'function') return this.wrap(node, () => (v as (...x: unknown[]) => unknown).apply(recv, args));
      if (args.length > 0) this.fail(node, `${name} has arguments but cannot be invoked as function`);
      return v;
    }
    if (recv === null || recv === undefined || recv === NO_VALUE) this.fail(node, `nil pointer evaluating interface {}.${name}`);
    this.fail(node, `can't evaluate field ${name} in type ${goType(recv)}`);
  }
}

export interface ExecuteOptions {
  funcs?: Funcs;
  /** Go's missingkey=error: a missing map key is an error instead of <no value>. */
  missingKey?: 'default' | 'error';
  /** On an error, return what was written before it (as docker does for a table's header) instead of throwing. */
  partial?: boolean;
}

export interface Template {
  readonly source: string;
  execute(data: unknown, options?: ExecuteOptions): string;
}

/** Parses a template; throws TemplateError with Go's words. */
export function parseTemplate(source: string): Template {
  const tree = new Parser(source, FUNCS).parse();
  return {
    source,
    execute(data: unknown, options: ExecuteOptions = {}): string {
      const state: State = { src: source, funcs: options.funcs ?? FUNCS, vars: [['$', data]], out: [], missingKey: options.missingKey ?? 'default' };
      try {
        new Exec(state).run(tree, data);
      } catch (err) {
        if (options.partial !== true || !(err instanceof TemplateError)) throw err;
      }
      return state.out.join('');
    },
  };
}
