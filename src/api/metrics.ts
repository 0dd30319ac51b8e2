/**
 * Metrics in Prometheus' text format (version 0.0.4) for `GET /metrics`:
 * counters, gauges and histograms with labels, kept in a registry any module of the
 * daemon can add to. Written by hand: the format is a few lines of text, and
 * prom-client would be berthd's biggest dependency for it.
 */
import { invalidArgument } from '../errors.ts';

export type Labels = Readonly<Record<string, string>>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** A label set's text, kept per set: a caller that reuses one (the gateway, per call) pays for it once. */
const texts = new WeakMap<Labels, string>();

function labelText(labels: Labels): string {
  const known = texts.get(labels);
  if (known !== undefined) return known;
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  for (const [k] of entries) if (!LABEL.test(k)) throw invalidArgument('metric_invalid', `metric label "${k}" is not valid`);
  const text = `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
  texts.set(labels, text);
  return text;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Values by their label set (the label text is the key, so equal sets share one). */
class Series {
  readonly values = new Map<string, number>();

  add(labels: Labels, n: number): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + n);
  }

  set(labels: Labels, v: number): void {
    this.values.set(labelText(labels), v);
  }
}

export class Counter {
  private readonly series = new Series();

  inc(labels: Labels = {}, n = 1): void {
    if (n < 0) throw invalidArgument('metric_invalid', 'a counter only goes up');
    this.series.add(labels, n);
  }

  /** @internal */
  samples(): Map<string, number> {
    return this.series.values;
  }
}

export class Gauge {
  private readonly series = new Series();

  set(v: number, labels: Labels = {}): void {
    this.series.set(labels, v);
  }

  add(n: number, labels: Labels = {}): void {
    this.series.add(labels, n);
  }

  /** @internal */
  samples(): Map<string, number> {
    return this.series.values;
  }
}

/** Prometheus' default buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  private readonly buckets: readonly number[];

  constructor(buckets: readonly number[]) {
    this.buckets = buckets;
  }

  observe(v: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (s === undefined) this.series.set(key, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    this.buckets.forEach((b, i) => {
      if (v <= b) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += v;
    s.count += 1;
  }

  /** @internal: `_bucket`, `_sum` and `_count` samples, each key the name's suffix and its labels. */
  *samples(): Iterable<[string, number]> {
    for (const s of this.series.values()) {
      for (const [i, b] of this.buckets.entries()) yield [`_bucket${labelText({ ...s.labels, le: String(b) })}`, s.counts[i] ?? 0];
      yield [`_bucket${labelText({ ...s.labels, le: '+Inf' })}`, s.count];
      yield [`_sum${labelText(s.labels)}`, s.sum];
      yield [`_count${labelText(s.labels)}`, s.count];
    }
  }
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  samples: () => Iterable<[string, number]>;
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string): Counter {
    const c = new Counter();
    this.register({ name, help, type: 'counter', samples: () => c.samples() });
    return c;
  }

  gauge(name: string, help: string): Gauge {
    const g = new Gauge();
    this.register({ name, help, type: 'gauge', samples: () => g.samples() });
    return g;
  }

  histogram(name: string, help: string, buckets: readonly number[] = DEFAULT_BUCKETS): Histogram {
    const h = new Histogram(buckets);
    this.register({ name, help, type: 'histogram', samples: () => h.samples() });
    return h;
  }

  /** A gauge read when scraped (memory, open containers): `collect` gives its samples then. */
  collect(name: string, help: string, collect: () => number | readonly (readonly [Labels, number])[]): void {
    this.register({
      name,
      help,
      type: 'gauge',
      samples: () => {
        const v = collect();
        return typeof v === 'number' ? [['', v]] : v.map(([labels, n]): [string, number] => [labelText(labels), n]);
      },
    });
  }

  render(): string {
    let out = '';
    for (const f of this.families.values()) {
      out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
      for (const [labels, v] of f.samples()) out += `${f.name}${labels} ${formatValue(v)}\n`;
    }
    return out;
  }

  private register(f: Family): void {
    if (!NAME.test(f.name)) throw invalidArgument('metric_invalid', `metric name "${f.name}" is not valid`);
    if (this.families.has(f.name)) throw invalidArgument('metric_invalid', `metric "${f.name}" is registered twice`);
    this.families.set(f.name, f);
  }
}
