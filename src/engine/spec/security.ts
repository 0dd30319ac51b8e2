/**
 * `--cap-add`/`--cap-drop` and `--security-opt`, with docker's rules
 * (moby's TweakCapabilities): names are case-insensitive, with or without
 * `CAP_`; `--cap-add ALL` gives every capability but those dropped,
 * `--cap-drop ALL` keeps only those added, otherwise the default set minus
 * the drops plus the adds.
 */
import { CAPABILITIES } from '../../runtime/linux/constants.ts';
import { DOCKER_CAPS } from '../../runtime/seccomp/docker-caps.ts';
import { flagError } from './flag-error.ts';

export { DOCKER_CAPS };

export type SeccompChoice = { kind: 'default' } | { kind: 'unconfined' } | { kind: 'file'; path: string };

export interface SecurityOptions {
  capAdd: string[];
  capDrop: string[];
  seccomp: SeccompChoice;
  noNewPrivileges: boolean;
}

/** "net_admin", "CAP_NET_ADMIN", "all" → "CAP_NET_ADMIN", "ALL". */
export function normalizeCapability(flag: string, raw: string): string {
  const upper = raw.toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!(name in CAPABILITIES)) throw flagError(flag, raw, 'not a capability');
  return name;
}

/** The container's capability set from the defaults and the flags. */
export function tweakCapabilities(basics: readonly string[], adds: readonly string[], drops: readonly string[]): string[] {
  const all = Object.keys(CAPABILITIES);
  let caps: string[];
  if (adds.includes('ALL')) caps = all.filter((c) => !drops.includes(c));
  else if (drops.includes('ALL')) caps = [...adds];
  else caps = [...basics.filter((c) => !drops.includes(c)), ...adds];
  return [...new Set(caps)];
}

/** Every `--security-opt`: seccomp=unconfined|FILE, no-new-privileges[=true|false] (also with ":", as docker's old form). */
export function parseSecurityOpts(opts: readonly string[]): Pick<SecurityOptions, 'seccomp' | 'noNewPrivileges'> {
  const out: Pick<SecurityOptions, 'seccomp' | 'noNewPrivileges'> = { seccomp: { kind: 'default' }, noNewPrivileges: false };
  for (const raw of opts) {
    let sep = raw.indexOf('=');
    if (sep === -1 && raw !== 'no-new-privileges') sep = raw.indexOf(':');
    const key = sep === -1 ? raw : raw.slice(0, sep);
    const value = sep === -1 ? undefined : raw.slice(sep + 1);
    if (key === 'no-new-privileges') {
      if (value === undefined || value === 'true') out.noNewPrivileges = true;
      else if (value === 'false') out.noNewPrivileges = false;
      else throw flagError('--security-opt', raw, 'no-new-privileges takes true or false');
    } else if (key === 'seccomp') {
      if (value === undefined || value === '') throw flagError('--security-opt', raw, 'seccomp needs "unconfined" or a profile file');
      out.seccomp = value === 'unconfined' ? { kind: 'unconfined' } : { kind: 'file', path: value };
    } else {
      throw flagError('--security-opt', raw, 'not seccomp=unconfined|FILE or no-new-privileges[=true|false]');
    }
  }
  return out;
}

export function parseSecurity(capAdd: readonly string[], capDrop: readonly string[], securityOpts: readonly string[]): SecurityOptions {
  return {
    capAdd: capAdd.map((c) => normalizeCapability('--cap-add', c)),
    capDrop: capDrop.map((c) => normalizeCapability('--cap-drop', c)),
    ...parseSecurityOpts(securityOpts),
  };
}
