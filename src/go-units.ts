/**
 * docker's small display helpers, reproduced to the character: go-units'
 * HumanDuration ("About a minute"), HumanSize/HumanSizeWithPrecision
 * (decimal, "1.5MB"), BytesSize (binary, "12.3MiB"), Go's %g (round half to
 * even, "1e+03"), strconv.Quote, stringid.TruncateID and the formatter's
 * Ellipsis.
 */

export { humanDuration } from './human-duration.ts';

/**
 * Whether x lies exactly halfway at the `digits`-th significant digit (or,
 * with `fixed`, at that many decimals), and the digit before is even: where
 * Go rounds down and JavaScript's toPrecision/toFixed round up.
 */
function tieToEven(x: number, digits: number, fixed: boolean): boolean {
  const exact = fixed ? Math.abs(x).toFixed(100) : Math.abs(x).toPrecision(100).replace(/e.*$/, '');
  const [int = '', frac = ''] = exact.split('.');
  // The digits from the first one that counts: significant ones for %g, all for %f.
  const all = fixed ? int + frac : (int + frac).replace(/^0+/, '');
  const keep = fixed ? int.length + digits : digits;
  return /^50*$/.test(all.slice(keep)) && Number(all[keep - 1] ?? '0') % 2 === 0;
}

/** Go's strconv 'f' with a precision: toFixed, but an exact tie rounds to even. */
export function formatFixed(x: number, precision: number): string {
  if (!tieToEven(x, precision, true)) return x.toFixed(precision);
  return (x - Math.sign(x) * 10 ** -precision / 2).toFixed(precision);
}

/** Go's fmt `%.{precision}g`: shortest of %e and %f, trailing zeros dropped, exact ties rounded to even. */
export function formatG(x: number, precision: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : Number.isNaN(x) ? 'NaN' : '-Inf';
  let text = x.toPrecision(precision);
  if (tieToEven(x, precision, false)) {
    const half = 10 ** (Math.floor(Math.log10(Math.abs(x))) - precision + 1) / 2;
    text = (x - Math.sign(x) * half).toPrecision(precision);
  }
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-])(\d+))?$/.exec(text);
  if (m === null) return text;
  const [, sign = '', int = '', frac = '', esign, exp] = m;
  const mantissa = frac.replace(/0+$/, '') === '' ? int : `${int}.${frac.replace(/0+$/, '')}`;
  if (esign === undefined || exp === undefined) return sign + mantissa;
  return `${sign}${mantissa}e${esign}${exp.padStart(2, '0')}`;
}

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function sizeAndUnit(size: number, base: number, units: readonly string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i] ?? 'B'];
}

/** go-units HumanSizeWithPrecision: decimal units ("2.75MB"). */
export function humanSizeWithPrecision(bytes: number, precision: number): string {
  const [size, unit] = sizeAndUnit(bytes, 1000, DECIMAL);
  return formatG(size, precision) + unit;
}

/** go-units HumanSize: decimal, four significant digits. */
export function humanSize(bytes: number): string {
  return humanSizeWithPrecision(bytes, 4);
}

/** go-units BytesSize: binary units ("12.3MiB"), four significant digits. */
export function bytesSize(bytes: number): string {
  const [size, unit] = sizeAndUnit(bytes, 1024, BINARY);
  return formatG(size, 4) + unit;
}

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
