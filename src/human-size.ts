/**
 * go-units' sizes as docker prints them, to the character:
 * HumanSize/HumanSizeWithPrecision (decimal, "1.5MB"), BytesSize (binary,
 * "12.3MiB"), over Go's %g and %f (exact ties rounded to even). Shared by
 * the command line and berthd's progress messages.
 */

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
