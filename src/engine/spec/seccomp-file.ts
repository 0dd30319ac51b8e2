/**
 * `--security-opt seccomp=FILE`: the file is a profile in Docker's format
 * (moby's profiles/seccomp), which the OCI format is a subset of. Docker's
 * additions are settled here for the container at hand, as moby's
 * setupSeccomp does: `archMap` gives the native architecture and its
 * sub-architectures, a rule's `includes`/`excludes` keep or drop it by the
 * container's capabilities and the architecture, and `name` is a one-name
 * `names`. `minKernel` is taken as met (berth needs a recent kernel). The
 * result is checked by the runtime's own validator so that a bad profile is
 * refused here, naming the file and the field, not at start.
 */
import { describeError, isBerthError } from '../../errors.ts';
import type { LinuxSeccomp, SeccompSyscall } from '../../oci/runtime-spec.ts';
import type { NativeArch } from '../../runtime/seccomp/arch.ts';
import { validateProfile } from '../../runtime/seccomp/validate.ts';
import { flagError } from './flag-error.ts';

/** Docker names architectures in `arches` as Go does, in `archMap` as libseccomp does. */
const GO_ARCH: Record<NativeArch, string> = { x86_64: 'amd64', aarch64: 'arm64' };
const SCMP_ARCH: Record<NativeArch, string> = { x86_64: 'SCMP_ARCH_X86_64', aarch64: 'SCMP_ARCH_AARCH64' };

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

function filter(v: unknown): { caps: string[]; arches: string[] } {
  const f = isRecord(v) ? v : {};
  return { caps: strings(f['caps']), arches: strings(f['arches']) };
}

function keeps(rule: Json, caps: ReadonlySet<string>, arch: NativeArch): boolean {
  const inc = filter(rule['includes']);
  const exc = filter(rule['excludes']);
  if (!inc.caps.every((c) => caps.has(c))) return false;
  if (inc.arches.length > 0 && !inc.arches.includes(GO_ARCH[arch])) return false;
  if (exc.caps.some((c) => caps.has(c))) return false;
  return !exc.arches.includes(GO_ARCH[arch]);
}

function architectures(profile: Json, arch: NativeArch): string[] | undefined {
  if (profile['architectures'] !== undefined) return strings(profile['architectures']);
  if (!Array.isArray(profile['archMap'])) return undefined;
  const own = profile['archMap'].find((a): a is Json => isRecord(a) && a['architecture'] === SCMP_ARCH[arch]);
  return own === undefined ? [] : [SCMP_ARCH[arch], ...strings(own['subArchitectures'])];
}

/** The OCI profile for a container with `caps` (its bounding set) on `arch`, from the text of FILE. */
export function seccompFromFile(path: string, text: string, caps: readonly string[], arch: NativeArch): LinuxSeccomp {
  const raw = `seccomp=${path}`;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw flagError('--security-opt', raw, `not a JSON seccomp profile: ${describeError(err)}`, err);
  }
  if (!isRecord(data)) throw flagError('--security-opt', raw, 'a seccomp profile must be a JSON object');
  const capSet = new Set(caps);
  const { archMap: _archMap, architectures: _arches, syscalls, ...rest } = data;
  const rules: SeccompSyscall[] = [];
  for (const [i, rule] of (Array.isArray(syscalls) ? syscalls : []).entries()) {
    if (!isRecord(rule)) throw flagError('--security-opt', raw, `syscalls[${i}]: must be an object`);
    if (!keeps(rule, capSet, arch)) continue;
    const { includes: _inc, excludes: _exc, name, names, comment: _comment, ...fields } = rule;
    rules.push({ ...fields, names: typeof name === 'string' && names === undefined ? [name] : names } as SeccompSyscall);
  }
  const arches = architectures(data, arch);
  const profile = { ...rest, ...(arches === undefined ? {} : { architectures: arches }), ...(Array.isArray(syscalls) ? { syscalls: rules } : {}) };
  try {
    validateProfile(profile);
  } catch (err) {
    if (!isBerthError(err)) throw err;
    throw flagError('--security-opt', raw, err.message, err);
  }
  return profile as unknown as LinuxSeccomp;
}
