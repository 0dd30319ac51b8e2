/**
 * An image config turned into a runtime config.json, as `umoci unpack` does
 * it: berth's default spec (runc's), then the image's Entrypoint + Cmd,
 * Env (overriding defaults by name), WorkingDir, User (resolved through the
 * image's passwd and group files), Volumes as tmpfs mounts, and the fields
 * the runtime spec has no place for as `org.opencontainers.image.*`
 * annotations (with the image's labels). The root is writable, as umoci
 * leaves it; the terminal is off, so the bundle runs detached or piped.
 */
import { defaultSpec } from '../../oci/default-spec.ts';
import type { Spec } from '../../oci/runtime-spec.ts';
import type { ImageConfig } from '../../oci/image-spec.ts';
import { invalidArgument } from '../../errors.ts';
import { resolveUser, type UserDb } from './user.ts';

export const ANNOTATION = {
  os: 'org.opencontainers.image.os',
  architecture: 'org.opencontainers.image.architecture',
  author: 'org.opencontainers.image.author',
  created: 'org.opencontainers.image.created',
  stopSignal: 'org.opencontainers.image.stopSignal',
  exposedPorts: 'org.opencontainers.image.exposedPorts',
} as const;

export interface ConfigToSpecOptions {
  /** The image's /etc/passwd and /etc/group (see readUserDb). */
  userDb?: UserDb;
  /** `root.path` (default "rootfs"). */
  rootPath?: string;
  terminal?: boolean;
}

function setEnv(env: string[], entry: string, field: string): void {
  const eq = entry.indexOf('=');
  if (eq <= 0) throw invalidArgument('image_env', `image config ${field} ${JSON.stringify(entry)}: not NAME=value`);
  const prefix = entry.slice(0, eq + 1);
  const i = env.findIndex((e) => e.startsWith(prefix));
  if (i === -1) env.push(entry);
  else env[i] = entry;
}

/** `created` as umoci writes it: RFC 3339 to the second. */
function createdText(created: string): string {
  const d = new Date(created);
  if (Number.isNaN(d.getTime())) throw invalidArgument('image_created', `image config created ${JSON.stringify(created)}: not a date`);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function imageConfigToSpec(image: ImageConfig, options: ConfigToSpecOptions = {}): Spec {
  if (image.os !== 'linux') throw invalidArgument('image_os', `image config os "${image.os}": only linux images run here`);
  const c = image.config ?? {};
  const spec = defaultSpec();
  const process = spec.process ?? { user: { uid: 0, gid: 0 }, cwd: '/' };
  spec.process = process;
  process.terminal = options.terminal ?? false;
  spec.root = { path: options.rootPath ?? 'rootfs', readonly: false };
  process.cwd = c.WorkingDir !== undefined && c.WorkingDir !== '' ? c.WorkingDir : '/';
  if (!process.cwd.startsWith('/')) throw invalidArgument('image_workdir', `image config WorkingDir ${JSON.stringify(c.WorkingDir)}: not absolute`);

  const env = [...(process.env ?? [])];
  for (const e of c.Env ?? []) setEnv(env, e, 'Env');
  const args = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (args.length > 0) process.args = args;

  const user = resolveUser(c.User, options.userDb ?? {});
  process.user = { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids };
  setEnv(env, `HOME=${user.home}`, 'HOME');
  process.env = env;

  const annotations: Record<string, string> = { ...(c.Labels ?? {}) };
  annotations[ANNOTATION.os] = image.os;
  annotations[ANNOTATION.architecture] = image.architecture;
  if (image.author !== undefined) annotations[ANNOTATION.author] = image.author;
  if (image.created !== undefined) annotations[ANNOTATION.created] = createdText(image.created);
  if (c.StopSignal !== undefined) annotations[ANNOTATION.stopSignal] = c.StopSignal;
  const ports = Object.keys(c.ExposedPorts ?? {}).sort();
  if (ports.length > 0) annotations[ANNOTATION.exposedPorts] = ports.join(',');
  spec.annotations = annotations;

  for (const volume of Object.keys(c.Volumes ?? {}).sort()) {
    if (!volume.startsWith('/')) throw invalidArgument('image_volume', `image config Volumes ${JSON.stringify(volume)}: not absolute`);
    (spec.mounts ??= []).push({ destination: volume, type: 'tmpfs', source: 'none', options: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime'] });
  }
  return spec;
}
