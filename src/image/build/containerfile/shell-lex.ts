/**
 * Variable substitution and quote removal in instruction arguments, as
 * BuildKit's shell lexer does it for ADD, COPY, ENV, EXPOSE, FROM, LABEL,
 * STOPSIGNAL, USER, VOLUME and WORKDIR: `$name`, `${name}`,
 * `${name:-word}`, `${name-word}`, `${name:+word}`, `${name+word}`,
 * `${name:?message}`, `${name?message}`; single quotes are literal, double
 * quotes expand `$` and let the escape character quote `"`, `$` and
 * itself; outside quotes the escape character takes the next one as is.
 * RUN, CMD and ENTRYPOINT are not processed here: their shell does it.
 */

/** Variables in scope: a name mapped to undefined is declared (ARG) but unset. */
export type Vars = ReadonlyMap<string, string | undefined>;

export class ExpansionError extends Error {}

class Lexer {
  private pos = 0;
  private readonly src: string;
  private readonly vars: Vars;
  private readonly escape: string;

  constructor(src: string, vars: Vars, escape: string) {
    this.src = src;
    this.vars = vars;
    this.escape = escape;
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private next(): string | undefined {
    return this.src[this.pos++];
  }

  /** Reads up to `stop` (consumed) or the end; returns the text and the words split on unquoted blanks. */
  run(stop?: string): { word: string; words: string[] } {
    let result = '';
    const words: string[] = [];
    let current = '';
    let inWord = false;
    const addChar = (ch: string): void => {
      if (/\s/.test(ch)) {
        if (inWord && current !== '') {
          words.push(current);
          current = '';
          inWord = false;
        }
      } else {
        current += ch;
        inWord = true;
      }
    };
    const addRaw = (s: string): void => {
      current += s;
      inWord = true;
    };
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) break;
      if (stop !== undefined && ch === stop) {
        this.pos++;
        if (current !== '') words.push(current);
        return { word: result, words };
      }
      if (ch === "'") {
        const s = this.singleQuoted();
        result += s;
        addRaw(s);
      } else if (ch === '"') {
        const s = this.doubleQuoted();
        result += s;
        addRaw(s);
      } else if (ch === '$') {
        const s = this.dollar();
        result += s;
        for (const c of s) addChar(c);
      } else {
        this.pos++;
        if (ch === this.escape) {
          const escaped = this.next();
          if (escaped === undefined) break;
          addRaw(escaped);
          result += escaped;
        } else {
          addChar(ch);
          result += ch;
        }
      }
    }
    if (stop !== undefined) throw new ExpansionError(`unexpected end of statement while looking for matching ${stop}`);
    if (current !== '') words.push(current);
    return { word: result, words };
  }

  private singleQuoted(): string {
    this.pos++;
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new ExpansionError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return out;
      out += ch;
    }
  }

  private doubleQuoted(): string {
    this.pos++;
    let out = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw new ExpansionError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      this.pos++;
      if (ch === this.escape) {
        const after = this.peek();
        if (after === undefined) continue;
        if (after === '"' || after === '$' || after === this.escape) {
          out += after;
          this.pos++;
          continue;
        }
      }
      out += ch;
    }
  }

  private lookup(name: string): string | undefined {
    return this.vars.get(name);
  }

  private dollar(): string {
    this.pos++;
    if (this.peek() !== '{') {
      const name = this.name();
      return name === '' ? '$' : (this.lookup(name) ?? '');
    }
    this.pos++;
    const first = this.peek();
    if (first === undefined) throw new ExpansionError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ExpansionError('syntax error: bad substitution');
    const name = this.name();
    const ch = this.next();
    if (ch === '}') return this.lookup(name) ?? '';
    let colon = false;
    let modifier = ch;
    if (ch === ':') {
      colon = true;
      modifier = this.next();
    }
    if (modifier !== '-' && modifier !== '+' && modifier !== '?') {
      if (ch === undefined) throw new ExpansionError("syntax error: missing '}'");
      throw new ExpansionError(`unsupported modifier (${modifier ?? 'end of text'}) in substitution of "${name}"`);
    }
    let word: string;
    try {
      word = this.run('}').word;
    } catch (err) {
      if (this.peek() === undefined) throw new ExpansionError("syntax error: missing '}'", { cause: err });
      throw err;
    }
    const value = this.lookup(name);
    const set = colon ? value !== undefined && value !== '' : value !== undefined;
    if (modifier === '-') return set ? (value ?? '') : word;
    if (modifier === '+') return set ? word : '';
    if (!set) throw new ExpansionError(`${name}: ${word === '' ? 'is not set' : word}`);
    return value ?? '';
  }

  private name(): string {
    let out = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) return out;
      if (out === '' && /[0-9]/.test(ch)) {
        while (this.peek() !== undefined && /[0-9]/.test(this.peek() ?? '')) out += this.next() ?? '';
        return out;
      }
      if (out === '' && '@*#?-$!0'.includes(ch)) {
        this.pos++;
        return ch;
      }
      if (!/[\p{L}\p{N}_]/u.test(ch)) return out;
      out += ch;
      this.pos++;
    }
  }
}

/** One word: variables substituted, quotes and escapes removed, blanks kept. */
export function expandWord(word: string, vars: Vars, escape = '\\'): string {
  return new Lexer(word, vars, escape).run().word;
}

/** Like expandWord, then split on blanks that were not quoted. */
export function expandWords(word: string, vars: Vars, escape = '\\'): string[] {
  return new Lexer(word, vars, escape).run().words;
}
