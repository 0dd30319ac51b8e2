/**
 * `berth volume ls` as `docker volume ls` prints it, from the volumes of
 * Docker's `GET /volumes`: names in natural order (`v2` before `v10`), the
 * table `DRIVER    VOLUME NAME`, `-q`, raw, and --format with docker's
 * volume placeholders (.Name .Driver .Scope .Mountpoint .Labels .Label
 * .Links .Size, and the cluster ones, "N/A" here).
 */
import { headerLabel, renderList } from './list.ts';
import { marshalContext, TYPE_NAME } from './template.ts';
import { humanSize } from '../../../go-units.ts';

export interface VolumeSummary {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Scope?: string;
  Labels?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** The order of docker's sortorder.NaturalLess: runs of digits compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  const chunks = (s: string): string[] => s.match(/\d+|\D+/g) ?? [];
  const x = chunks(a);
  const y = chunks(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i] ?? '';
    const q = y[i] ?? '';
    if (p === q) continue;
    if (/^\d/.test(p) && /^\d/.test(q)) {
      const pn = p.replace(/^0+/, '');
      const qn = q.replace(/^0+/, '');
      if (pn.length !== qn.length) return pn.length - qn.length;
      if (pn !== qn) return pn < qn ? -1 : 1;
      return p.length - q.length;
    }
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

function volumeContext(v: VolumeSummary): Record<string | symbol, unknown> {
  const labels = v.Labels ?? {};
  return {
    [TYPE_NAME]: '*formatter.volumeContext',
    Availability: 'N/A',
    Driver: v.Driver,
    Group: 'N/A',
    Labels: Object.entries(labels).map(([k, x]) => `${k}=${x}`).sort().join(','),
    Links: v.UsageData === undefined || v.UsageData === null ? 'N/A' : String(v.UsageData.RefCount),
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Scope: v.Scope ?? '',
    Size: v.UsageData === undefined || v.UsageData === null ? 'N/A' : humanSize(v.UsageData.Size),
    Status: 'N/A',
    Label: (name: unknown) => (typeof name === 'string' ? (labels[name] ?? '') : ''),
    MarshalJSON: marshalContext,
  };
}

const HEADER = {
  ID: 'ID',
  Name: 'VOLUME NAME',
  Group: 'GROUP',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Availability: 'AVAILABILITY',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Status: 'STATUS',
  Label: headerLabel,
};

/** docker's NewVolumeFormat: -q only changes the table and raw formats. */
export function volumeFormat(format: string | undefined, quiet: boolean): string {
  const f = format === undefined || format === '' ? 'table' : format;
  if (f === 'table') return quiet ? '{{.Name}}' : 'table {{.Driver}}\t{{.Name}}';
  if (f === 'raw') return quiet ? 'name: {{.Name}}' : 'name: {{.Name}}\ndriver: {{.Driver}}\n';
  return f;
}

export function renderVolumes(volumes: readonly VolumeSummary[], flags: { format?: string | undefined; quiet?: boolean }): string {
  const sorted = [...volumes].sort((a, b) => naturalCompare(a.Name, b.Name));
  return renderList(volumeFormat(flags.format, flags.quiet === true), sorted.map(volumeContext), HEADER);
}
