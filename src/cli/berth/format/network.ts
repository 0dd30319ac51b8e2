/**
 * `berth network ls` as `docker network ls` prints it, from the networks
 * of Docker's `GET /networks`: names in natural order, the table `NETWORK
 * ID  NAME  DRIVER  SCOPE` (IDs cut to 12 unless --no-trunc), `-q`, and
 * --format with docker's network placeholders (.ID .Name .Driver .Scope
 * .IPv6 .Internal .Labels .Label .CreatedAt).
 */
import { headerLabel, renderList } from './list.ts';
import { goTimeString } from './ps.ts';
import { marshalContext, TYPE_NAME } from './template.ts';
import { truncateId } from '../../../go-units.ts';
import { naturalCompare } from './volume.ts';

export interface NetworkSummary {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Created: string;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
}

/** Go's time.Time.String() of an RFC 3339 time, fraction kept as Go keeps it (trailing zeros dropped). */
export function goCreatedString(rfc3339: string): string {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) return rfc3339;
  const base = goTimeString(Math.floor(ms / 1000));
  const fraction = /\.(\d+)/.exec(rfc3339)?.[1]?.replace(/0+$/, '') ?? '';
  return fraction === '' ? base : base.replace(/^(\S+ \S+)/, `$1.${fraction}`);
}

function networkContext(n: NetworkSummary, trunc: boolean): Record<string | symbol, unknown> {
  const labels = n.Labels ?? {};
  return {
    [TYPE_NAME]: '*formatter.networkContext',
    ID: trunc ? truncateId(n.Id) : n.Id,
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv6: String(n.EnableIPv6 === true),
    Internal: String(n.Internal === true),
    Labels: Object.entries(labels).map(([k, x]) => `${k}=${x}`).sort().join(','),
    CreatedAt: goCreatedString(n.Created),
    Label: (name: unknown) => (typeof name === 'string' ? (labels[name] ?? '') : ''),
    MarshalJSON: marshalContext,
  };
}

const HEADER = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
  Label: headerLabel,
};

/** docker's NewNetworkFormat: -q only changes the table and raw formats. */
export function networkFormat(format: string | undefined, quiet: boolean): string {
  const f = format === undefined || format === '' ? 'table' : format;
  if (f === 'table') return quiet ? '{{.ID}}' : 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
  if (f === 'raw') return quiet ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\nname: {{.Name}}\ndriver: {{.Driver}}\nscope: {{.Scope}}\n';
  return f;
}

export function renderNetworks(networks: readonly NetworkSummary[], flags: { format?: string | undefined; quiet?: boolean; noTrunc?: boolean }): string {
  const sorted = [...networks].sort((a, b) => naturalCompare(a.Name, b.Name));
  return renderList(networkFormat(flags.format, flags.quiet === true), sorted.map((n) => networkContext(n, flags.noTrunc !== true)), HEADER);
}
