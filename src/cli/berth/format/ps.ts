/**
 * `berth ps` as `docker ps` prints it, from Docker's `GET /containers/json`
 * items (ContainerSummary): the default table (CONTAINER ID, IMAGE,
 * COMMAND, CREATED, STATUS, PORTS, NAMES), `-q`, `-s`, `--no-trunc`,
 * `--format` with docker's placeholders (.ID .Image .Command .CreatedAt
 * .RunningFor .Ports .State .Status .Size .Names .Labels .Label .Mounts
 * .Networks .LocalVolumes) and `{{json .}}` with docker's keys. Also the
 * daemon's side of STATUS ("Up 3 minutes (healthy)", "Exited (0) 2 hours
 * ago"), which the API sends ready-made.
 */
import { internal } from '../../../errors.ts';
import { headerLabel, renderList } from './list.ts';
import { marshalContext, TYPE_NAME } from './template.ts';
import { ellipsis, goQuote, humanDuration, humanSizeWithPrecision, truncateId } from '../../../go-units.ts';

export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export interface MountPoint {
  Name?: string;
  Source?: string;
  Driver?: string;
}

/** The fields of Docker's ContainerSummary that ps shows. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID?: string;
  Command: string;
  /** Unix seconds. */
  Created: number;
  Ports: PortSummary[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string>;
  State: string;
  Status: string;
  NetworkSettings?: { Networks?: Record<string, unknown> };
  Mounts: MountPoint[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(field: string, why: string): never {
  throw internal('daemon_response_invalid', `container list from the daemon: ${field}: ${why}`);
}

/** One item of the daemon's answer, checked field by field. */
export function asContainerSummary(v: unknown, i = 0): ContainerSummary {
  if (!isRecord(v)) bad(`[${i}]`, 'not an object');
  const str = (k: string): string => (typeof v[k] === 'string' ? v[k] : bad(`[${i}].${k}`, 'not a string'));
  const num = (k: string): number => (typeof v[k] === 'number' ? v[k] : bad(`[${i}].${k}`, 'not a number'));
  const optNum = (k: string): number | undefined => (v[k] === undefined || v[k] === null ? undefined : num(k));
  const list = (k: string): unknown[] => (v[k] === undefined || v[k] === null ? [] : Array.isArray(v[k]) ? v[k] : bad(`[${i}].${k}`, 'not a list'));
  const names = list('Names').map((n) => (typeof n === 'string' ? n : bad(`[${i}].Names`, 'not a list of strings')));
  const labels: Record<string, string> = {};
  if (isRecord(v['Labels'])) for (const [k, x] of Object.entries(v['Labels'])) labels[k] = typeof x === 'string' ? x : bad(`[${i}].Labels.${k}`, 'not a string');
  const ports = list('Ports').map((p): PortSummary => {
    if (!isRecord(p) || typeof p['PrivatePort'] !== 'number' || typeof p['Type'] !== 'string') bad(`[${i}].Ports`, 'not a list of ports');
    return {
      PrivatePort: p['PrivatePort'],
      Type: p['Type'],
      ...(typeof p['IP'] === 'string' ? { IP: p['IP'] } : {}),
      ...(typeof p['PublicPort'] === 'number' ? { PublicPort: p['PublicPort'] } : {}),
    };
  });
  const mounts = list('Mounts').map((m): MountPoint => {
    if (!isRecord(m)) bad(`[${i}].Mounts`, 'not a list of mounts');
    const pick = (k: 'Name' | 'Source' | 'Driver'): Partial<MountPoint> => (typeof m[k] === 'string' ? { [k]: m[k] } : {});
    return { ...pick('Name'), ...pick('Source'), ...pick('Driver') };
  });
  const networks = isRecord(v['NetworkSettings']) && isRecord(v['NetworkSettings']['Networks']) ? v['NetworkSettings']['Networks'] : undefined;
  const sizeRw = optNum('SizeRw');
  const sizeRootFs = optNum('SizeRootFs');
  return {
    Id: str('Id'),
    Names: names,
    Image: str('Image'),
    ...(typeof v['ImageID'] === 'string' ? { ImageID: v['ImageID'] } : {}),
    Command: str('Command'),
    Created: num('Created'),
    Ports: ports,
    ...(sizeRw === undefined ? {} : { SizeRw: sizeRw }),
    ...(sizeRootFs === undefined ? {} : { SizeRootFs: sizeRootFs }),
    Labels: labels,
    State: str('State'),
    Status: str('Status'),
    ...(networks === undefined ? {} : { NetworkSettings: { Networks: networks } }),
    Mounts: mounts,
  };
}

/** What the daemon knows of a container's state, for STATUS. Times in milliseconds since the epoch; 0: never. */
export interface StatusFacts {
  running: boolean;
  paused: boolean;
  restarting: boolean;
  dead: boolean;
  removing: boolean;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** "starting", "healthy", "unhealthy"; undefined: no health check. */
  health?: string;
}

/** Docker's State.String(): the STATUS column, as the daemon sends it. */
export function statusText(s: StatusFacts, now: number = Date.now()): string {
  if (s.running) {
    const up = humanDuration(now - s.startedAt);
    if (s.paused) return `Up ${up} (Paused)`;
    if (s.restarting) return `Restarting (${s.exitCode}) ${humanDuration(now - s.finishedAt)} ago`;
    if (s.health !== undefined) return `Up ${up} (${s.health === 'starting' ? 'health: starting' : s.health})`;
    return `Up ${up}`;
  }
  if (s.removing) return 'Removal In Progress';
  if (s.dead) return 'Dead';
  if (s.startedAt === 0) return 'Created';
  if (s.finishedAt === 0) return '';
  return `Exited (${s.exitCode}) ${humanDuration(now - s.finishedAt)} ago`;
}

const joinHostPort = (host: string, port: string): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function ipKey(ip: string | undefined): string {
  if (ip === undefined || ip === '') return '';
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (v4 !== null) return `4${v4.slice(1).map((n) => n.padStart(3, '0')).join('')}`;
  return `6${ip}`;
}

/** docker's DisplayablePorts: "0.0.0.0:8080->80/tcp, 9000-9001/tcp". */
export function displayablePorts(ports: readonly PortSummary[]): string {
  const sorted = [...ports].sort(
    (a, b) => a.PrivatePort - b.PrivatePort || ipKey(a.IP).localeCompare(ipKey(b.IP)) || (a.PublicPort ?? 0) - (b.PublicPort ?? 0) || a.Type.localeCompare(b.Type),
  );
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  const formGroup = (key: string, first: number, last: number): string => {
    const slash = key.lastIndexOf('/');
    const ip = slash >= 0 ? key.slice(0, slash) : '';
    const type = slash >= 0 ? key.slice(slash + 1) : key;
    let group = first === last ? `${first}` : `${first}-${last}`;
    if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
    return `${group}/${type}`;
  };
  for (const p of sorted) {
    let key = p.Type;
    if (p.IP !== undefined && p.IP !== '') {
      if ((p.PublicPort ?? 0) !== p.PrivatePort) {
        hostMappings.push(`${joinHostPort(p.IP, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (g === undefined) {
      groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
    } else if (p.PrivatePort === g.last + 1) {
      g.last = p.PrivatePort;
    } else {
      result.push(formGroup(key, g.first, g.last));
      groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
    }
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}

/** Go's time.Time.String() of Unix seconds, in the local zone: "2026-12-06 23:59:01 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60_000);
  const abs = Math.abs(off);
  const zone = `${off < 0 ? '-' : '+'}${String(Math.trunc(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  const name = off === 0 ? 'UTC' : (new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? zone);
  return `${local.toISOString().slice(0, 19).replace('T', ' ')} ${zone} ${name}`;
}

export interface PsOptions {
  /** --no-trunc not given. */
  trunc: boolean;
  /** Milliseconds since the epoch, for CREATED. */
  now?: number;
  /** The familiar form of an image name (drops the default registry); identity by default. */
  familiar?: (name: string) => string;
}

function image(c: ContainerSummary, o: PsOptions): string {
  if (c.Image === '') return '<no image>';
  if (!o.trunc) return c.Image;
  if (c.ImageID !== undefined && truncateId(c.ImageID) === truncateId(c.Image)) return truncateId(c.Image);
  // A digest is dropped, a tag kept.
  const name = c.Image.replace(/@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, '');
  return (o.familiar ?? ((n: string) => n))(name);
}

/** docker's ContainerContext: the fields and methods a --format template sees (keys in json's order). */
export function containerContext(c: ContainerSummary, o: PsOptions): Record<string, unknown> {
  const now = o.now ?? Date.now();
  const names = c.Names.map((n) => n.replace(/^\//, ''));
  const mounts = c.Mounts.map((m) => {
    const name = m.Name === undefined || m.Name === '' ? (m.Source ?? '') : m.Name;
    return o.trunc ? ellipsis(name, 15) : name;
  });
  const sizeRw = humanSizeWithPrecision(c.SizeRw ?? 0, 3);
  return {
    [TYPE_NAME]: '*formatter.ContainerContext',
    Command: goQuote(o.trunc ? ellipsis(c.Command, 20) : c.Command),
    CreatedAt: goTimeString(c.Created),
    ID: o.trunc ? truncateId(c.Id) : c.Id,
    Image: image(c, o),
    Labels: Object.entries(c.Labels).map(([k, v]) => `${k}=${v}`).sort().join(','),
    LocalVolumes: String(c.Mounts.filter((m) => m.Driver === 'local').length),
    Mounts: mounts.join(','),
    // Truncated: the first name that is not a legacy link ("/other/alias").
    Names: o.trunc ? (names.find((n) => !n.includes('/')) ?? '') : names.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
    Ports: displayablePorts(c.Ports),
    RunningFor: `${humanDuration(now - c.Created * 1000)} ago`,
    Size: (c.SizeRootFs ?? 0) > 0 ? `${sizeRw} (virtual ${humanSizeWithPrecision(c.SizeRootFs ?? 0, 3)})` : sizeRw,
    State: c.State,
    Status: c.Status,
    Label: (name: unknown) => (typeof name === 'string' ? (c.Labels[name] ?? '') : ''),
    MarshalJSON: marshalContext,
  };
}

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

/** docker's NewContainerFormat: the format that -q, -s and --format stand for. */
export function psFormat(format: string | undefined, quiet: boolean, size: boolean): string {
  if (format === undefined || format === '' || format === 'table') {
    if (quiet) return '{{.ID}}';
    return size ? `${DEFAULT_TABLE}\t{{.Size}}` : DEFAULT_TABLE;
  }
  if (format === 'raw') {
    if (quiet) return 'container_id: {{.ID}}';
    const raw =
      'container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n';
    return size ? `${raw}size: {{.Size}}\n` : raw;
  }
  return quiet ? '{{.ID}}' : format;
}

const PS_HEADER = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Label: headerLabel,
};

export interface PsFlags {
  format?: string | undefined;
  quiet?: boolean;
  size?: boolean;
  noTrunc?: boolean;
}

/** The whole of `ps` output for the daemon's list. */
export function renderPs(containers: readonly ContainerSummary[], flags: PsFlags, options: Omit<PsOptions, 'trunc'> = {}): string {
  const format = psFormat(flags.format, flags.quiet === true, flags.size === true);
  const o: PsOptions = { ...options, trunc: flags.noTrunc !== true };
  return renderList(format, containers.map((c) => containerContext(c, o)), PS_HEADER);
}

/** Whether a format shows sizes (docker then asks the API for them, as -s does). */
export function psWantsSize(format: string | undefined, size: boolean): boolean {
  return size || (format !== undefined && format.includes('.Size'));
}
