/**
 * docker's small display helpers, reproduced to the character: go-units'
 * HumanDuration ("About a minute"), HumanSize/HumanSizeWithPrecision
 * (decimal, "1.5MB"), BytesSize (binary, "12.3MiB"), Go's %g (round half to
 * even, "1e+03"), strconv.Quote, stringid.TruncateID and the formatter's
 * Ellipsis.
 */

export { humanDuration } from '../../../human-duration.ts';
export { bytesSize, formatFixed, formatG, humanSize, humanSizeWithPrecision } from '../../../human-size.ts';

/** stringid.TruncateID: the part after "sha256:", 12 characters. */
export function truncateId(id: string): string {
  const colon = id.indexOf(':');
  return (colon >= 0 ? id.slice(colon + 1) : id).slice(0, 12);
}

/** The formatter's Ellipsis for text of one column per code point: at most `max`, ending in "…" when cut. */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const chars = [...s];
  if (max === 1) return chars[0] ?? '';
  if (chars.length <= max) return s;
  return `${chars.slice(0, max - 1).join('')}…`;
}

const GO_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };

/** Go's strconv.Quote: printable characters as they are, the rest escaped as Go escapes them. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    const esc = GO_ESCAPES[ch];
    if (esc !== undefined) out += esc;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (/[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/u.test(ch) || (code >= 0x80 && code <= 0x9f)) {
      out += code > 0xffff ? `\\U${code.toString(16).padStart(8, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}
