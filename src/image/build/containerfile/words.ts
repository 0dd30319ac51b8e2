/**
 * Splitting an instruction's arguments the ways BuildKit's line parsers do:
 * leading `--flag[=value]` words; the JSON ("exec") form `["a", "b"]`;
 * words split on blanks with quotes kept (ENV, LABEL, ARG: the quotes go
 * when the word is expanded); or plain blank-separated words.
 */

export interface Flag {
  name: string;
  /** undefined for a bare `--name`. */
  value: string | undefined;
}

/** Leading `--name[=value]` words (quotes and `\` removed, as BuildKit does) and the rest of the line. */
export function extractFlags(line: string): { flags: Flag[]; rest: string } {
  const flags: Flag[] = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && /\s/.test(line[pos] ?? '')) pos++;
    if (!line.startsWith('--', pos)) break;
    let word = '';
    let quote = '';
    let i = pos;
    for (; i < line.length; i++) {
      const ch = line[i] ?? '';
      if (quote !== '') {
        if (ch === quote) quote = '';
        else if (ch === '\\' && i + 1 < line.length) word += line[++i] ?? '';
        else word += ch;
        continue;
      }
      if (/\s/.test(ch)) break;
      if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '\\' && i + 1 < line.length) word += line[++i] ?? '';
      else word += ch;
    }
    pos = i;
    if (word === '--') break;
    const body = word.slice(2);
    const eq = body.indexOf('=');
    flags.push(eq === -1 ? { name: body, value: undefined } : { name: body.slice(0, eq), value: body.slice(eq + 1) });
  }
  return { flags, rest: line.slice(pos).trim() };
}

export class JsonFormError extends Error {}

/**
 * The JSON form: an array of strings. Returns undefined when the text is
 * not JSON at all (then it is the shell form); throws when it is a JSON
 * array holding something other than strings.
 */
export function parseJsonForm(rest: string): string[] | undefined {
  const text = rest.trimStart();
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v): v is string => typeof v === 'string')) {
    throw new JsonFormError('when using JSON array syntax, arrays must be comprised of strings only');
  }
  return value;
}

/** Blank-separated words, nothing else interpreted. */
export function splitWhitespace(rest: string): string[] {
  return rest.split(/[\t\v\f\r ]+/).filter((w) => w !== '');
}

/** Words split on blanks, quoted blanks kept and the quotes too (BuildKit's parseWords). */
export function splitQuotedWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let started = false;
  let blankOk = false;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i] ?? '';
    if (quote === '') {
      if (/\s/.test(ch)) {
        if (started && (blankOk || word !== '')) words.push(word);
        word = '';
        started = false;
        blankOk = false;
        continue;
      }
      started = true;
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      } else if (ch === escape) {
        if (i + 1 === rest.length) continue;
        word += ch + (rest[++i] ?? '');
        continue;
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = '';
    else if (ch === escape && quote !== "'") {
      if (i + 1 === rest.length) continue;
      word += ch + (rest[++i] ?? '');
      continue;
    }
    word += ch;
  }
  if (started && (blankOk || word !== '')) words.push(word);
  return words;
}
