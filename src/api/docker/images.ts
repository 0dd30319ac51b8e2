/**
 * Images in the Docker Engine API's shapes (API 1.41-1.43): ImageSummary
 * (`GET /images/json`), ImageInspect (`GET /images/{name}/json`), the
 * history entries, the image list's filters (dangling, label, reference,
 * before, since, until) and the `X-Registry-Auth` header. Names are shown
 * as docker shows them: without the default registry, and without the
 * `localhost/` berth files registry-less names under.
 */
import type { HistoryEntry, ImageConfig, ImageConfigDetails } from '../../oci/image-spec.ts';
import { invalidArgument } from '../../errors.ts';
import { isObject } from '../../json-object.ts';
import type { Credentials } from '../../image/registry/credentials.ts';
import { familiarName, LOCAL_DOMAIN, type ReferenceDefaults } from '../../image/registry/reference.ts';
import { splitName } from '../../image/list.ts';
import type { ImageRecord } from '../../image/store/store.ts';
import type { Filters } from '../query.ts';
import { compareVersions } from '../router.ts';

/** "localhost/busybox:latest" → "busybox:latest": the name as the user typed it. */
export function dockerName(canonical: string, defaults: ReferenceDefaults): string {
  const familiar = familiarName(canonical, defaults);
  const local = `${LOCAL_DOMAIN}/`;
  return defaults.registry === undefined && familiar.startsWith(local) ? familiar.slice(local.length) : familiar;
}

export function unixSeconds(iso: string | undefined): number {
  const t = Date.parse(iso ?? '');
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** Whether the client's API version (undefined: the newest, as an unversioned path means) is older than `v`. */
function before(version: string | undefined, v: string): boolean {
  return version !== undefined && compareVersions(version, v) < 0;
}

/** `GET /images/json`'s entry (VirtualSize went in API 1.44). */
export function imageSummary(img: ImageRecord, config: ImageConfig, defaults: ReferenceDefaults, version?: string): Record<string, unknown> {
  return {
    Id: img.id,
    ParentId: '',
    RepoTags: img.names.map((n) => dockerName(n, defaults)),
    RepoDigests: img.repoDigests.map((n) => dockerName(n, defaults)),
    Created: unixSeconds(img.created),
    Size: img.size,
    SharedSize: -1,
    ...(before(version, '1.44') ? { VirtualSize: img.size } : {}),
    Labels: config.config?.Labels ?? {},
    Containers: -1,
  };
}

/** An image's Config as docker shows it: a container config with the image's values. */
export function dockerImageConfig(c: ImageConfigDetails | undefined): Record<string, unknown> {
  return {
    Hostname: '',
    Domainname: '',
    User: c?.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(c?.ExposedPorts === undefined ? {} : { ExposedPorts: c.ExposedPorts }),
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c?.Env ?? null,
    Cmd: c?.Cmd ?? null,
    ...(c?.Healthcheck === undefined ? {} : { Healthcheck: c.Healthcheck }),
    ...(c?.ArgsEscaped === undefined ? {} : { ArgsEscaped: c.ArgsEscaped }),
    Image: '',
    Volumes: c?.Volumes ?? null,
    WorkingDir: c?.WorkingDir ?? '',
    Entrypoint: c?.Entrypoint ?? null,
    OnBuild: c?.OnBuild ?? null,
    Labels: c?.Labels ?? null,
    ...(c?.StopSignal === undefined ? {} : { StopSignal: c.StopSignal }),
    ...(c?.Shell === undefined ? {} : { Shell: c.Shell }),
  };
}

/** `GET /images/{name}/json` (VirtualSize went in API 1.44, Container and ContainerConfig in 1.45). */
export function imageInspect(img: ImageRecord, config: ImageConfig, defaults: ReferenceDefaults, version?: string): Record<string, unknown> {
  return {
    Id: img.id,
    RepoTags: img.names.map((n) => dockerName(n, defaults)),
    RepoDigests: img.repoDigests.map((n) => dockerName(n, defaults)),
    Parent: '',
    Comment: config.history?.at(-1)?.comment ?? '',
    Created: img.created ?? '',
    ...(before(version, '1.45') ? { Container: '', ContainerConfig: dockerImageConfig(undefined) } : {}),
    DockerVersion: '',
    Author: config.author ?? '',
    Config: dockerImageConfig(config.config),
    Architecture: img.architecture,
    ...(img.variant === undefined ? {} : { Variant: img.variant }),
    Os: img.os,
    ...(config['os.version'] === undefined ? {} : { OsVersion: config['os.version'] }),
    Size: img.size,
    ...(before(version, '1.44') ? { VirtualSize: img.size } : {}),
    GraphDriver: { Name: 'berth', Data: null },
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

/** `GET /images/{name}/history`: newest first; sizes are the stored (compressed) layers'. */
export function imageHistory(img: ImageRecord, config: ImageConfig, defaults: ReferenceDefaults): Record<string, unknown>[] {
  const history: HistoryEntry[] = config.history ?? img.layers.map(() => ({}));
  const out: Record<string, unknown>[] = [];
  let layer = 0;
  for (const h of history) {
    const size = h.empty_layer === true ? 0 : (img.layers[layer++]?.size ?? 0);
    out.push({ Id: '<missing>', Created: unixSeconds(h.created), CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' });
  }
  out.reverse();
  const top = out[0];
  if (top !== undefined) {
    top['Id'] = img.id;
    top['Tags'] = img.names.map((n) => dockerName(n, defaults));
  }
  return out;
}

/** Go's path.Match over a whole name: `*` and `?` within one path segment, `[...]` classes. */
export function globMatches(pattern: string, name: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw invalidArgument('api_filters_invalid', `filter reference="${pattern}": unclosed "["`);
      re += `[${pattern.slice(i + 1, end).replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(name);
}

const IMAGE_FILTERS = new Set(['dangling', 'label', 'reference', 'before', 'since', 'until']);

/** The image list's filters, checked up front (an unknown one is a 400 naming it). */
export function checkImageFilters(f: Filters): void {
  for (const key of f.keys()) {
    if (!IMAGE_FILTERS.has(key)) throw invalidArgument('api_filters_invalid', `filter "${key}": not an image filter (${[...IMAGE_FILTERS].join(', ')})`);
  }
  for (const v of f.get('dangling') ?? []) {
    if (!['true', 'false', '1', '0'].includes(v)) throw invalidArgument('api_filters_invalid', `filter dangling="${v}": want true or false`);
  }
}

function labelMatches(labels: Record<string, string>, want: string): boolean {
  const eq = want.indexOf('=');
  return eq < 0 ? want in labels : labels[want.slice(0, eq)] === want.slice(eq + 1);
}

function untilSeconds(raw: string): number {
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw);
  const m = /^(\d+)(s|m|h)$/.exec(raw);
  if (m) return Date.now() / 1000 - Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw invalidArgument('api_filters_invalid', `filter until="${raw}": not a time`);
  return t / 1000;
}

/** Whether an image passes the filters; `created(ref)` gives another image's creation time (before, since). */
export function matchImage(img: ImageRecord, labels: Record<string, string>, f: Filters, defaults: ReferenceDefaults, created: (ref: string) => number): boolean {
  const mine = unixSeconds(img.created);
  for (const [key, values] of f) {
    if (values.length === 0) continue;
    let ok: boolean;
    switch (key) {
      case 'dangling':
        ok = values.some((v) => (v === 'true' || v === '1') === (img.names.length === 0));
        break;
      case 'label':
        ok = values.every((v) => labelMatches(labels, v));
        break;
      case 'reference':
        ok = values.some((pattern) =>
          img.names.some((n) => {
            const familiar = dockerName(n, defaults);
            return globMatches(pattern, familiar) || globMatches(pattern, splitName(familiar).repository);
          }),
        );
        break;
      case 'before':
        ok = values.some((v) => mine < created(v));
        break;
      case 'since':
        ok = values.some((v) => mine > created(v));
        break;
      case 'until':
        ok = values.some((v) => mine < untilSeconds(v));
        break;
      default:
        ok = true;
    }
    if (!ok) return false;
  }
  return true;
}

/**
 * `X-Registry-Auth`: base64url of Docker's AuthConfig JSON ({username,
 * password, auth, serveraddress, identitytoken}). No header, or one
 * without credentials ("{}"), is undefined: the daemon's own.
 */
export function registryAuth(header: string | string[] | undefined): Credentials | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined || raw.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw.trim(), 'base64url').toString('utf8'));
  } catch {
    throw invalidArgument('api_registry_auth_invalid', 'header X-Registry-Auth: not base64url-encoded JSON');
  }
  return authConfig(parsed, 'header X-Registry-Auth');
}

/** Docker's AuthConfig (also `POST /auth`'s body) to credentials; undefined when it carries none. */
export function authConfig(v: unknown, what: string): Credentials | undefined {
  if (v === null || v === undefined) return undefined;
  if (!isObject(v)) throw invalidArgument('api_registry_auth_invalid', `${what}: want a JSON object`);
  const field = (k: string): string => {
    const x = v[k];
    if (x === undefined || x === null) return '';
    if (typeof x !== 'string') throw invalidArgument('api_registry_auth_invalid', `${what}: field "${k}" must be a string`);
    return x;
  };
  if (field('identitytoken') !== '' || field('registrytoken') !== '') {
    throw invalidArgument('api_registry_auth_invalid', `${what}: identity and registry tokens are not supported; log in with a user name and password`);
  }
  let username = field('username');
  let password = field('password');
  const auth = field('auth');
  if (username === '' && auth !== '') {
    const text = Buffer.from(auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) throw invalidArgument('api_registry_auth_invalid', `${what}: field "auth" is not base64 of user:password`);
    username = text.slice(0, colon);
    password = text.slice(colon + 1);
  }
  return username === '' && password === '' ? undefined : { username, password };
}
