/**
 * The devices cgroup's rule semantics, emulated (the idea of runc's devices
 * emulator): a default (allow or deny) plus exceptions. An "a" rule resets
 * the default and drops every exception; other rules add an exception when
 * their action differs from the default and remove access from an exact
 * exception otherwise. Removing access that a wider wildcard exception
 * grants is refused, as cgroup v1 would silently ignore it.
 *
 * Used twice: v1 writes the minimal transition from the cgroup's current
 * devices.list to the target, and v2 compiles the target into an eBPF
 * program, so both versions enforce exactly the same rules.
 */
import type { LinuxDeviceCgroup } from '../../../oci/runtime-spec.ts';
import { invalidArgument } from '../../../errors.ts';

export type DeviceType = 'a' | 'b' | 'c';
/** -1 is the wildcard "*". */
export interface DeviceRule {
  type: DeviceType;
  major: number;
  minor: number;
  /** A non-empty subset of "rwm", in that order. */
  access: string;
  allow: boolean;
}

const BITS: Record<string, number> = { r: 1, w: 2, m: 4 };

export function accessBits(access: string): number {
  let bits = 0;
  for (const ch of access) bits |= BITS[ch] ?? 0;
  return bits;
}

export function accessString(bits: number): string {
  return (bits & 1 ? 'r' : '') + (bits & 2 ? 'w' : '') + (bits & 4 ? 'm' : '');
}

/** linux.resources.devices entries as rules: missing type is "a", missing numbers are "*", missing access is "rwm". */
export function rulesFromSpec(devices: readonly LinuxDeviceCgroup[]): DeviceRule[] {
  return devices.map((d) => ({
    type: (d.type === undefined || d.type === '' ? 'a' : d.type) as DeviceType,
    major: d.major ?? -1,
    minor: d.minor ?? -1,
    access: accessString(accessBits(d.access === undefined || d.access === '' ? 'rwm' : d.access)),
    allow: d.allow,
  }));
}

/** The text devices.allow and devices.deny take: "c 1:3 rwm". */
export function ruleString(rule: Pick<DeviceRule, 'type' | 'major' | 'minor' | 'access'>): string {
  const n = (v: number): string => (v < 0 ? '*' : String(v));
  return `${rule.type} ${n(rule.major)}:${n(rule.minor)} ${rule.access}`;
}

const key = (type: DeviceType, major: number, minor: number): string => `${type} ${major} ${minor}`;

export class DeviceEmulator {
  defaultAllow = false;
  /** key → access bits; exceptions to the default. */
  readonly exceptions = new Map<string, { type: DeviceType; major: number; minor: number; bits: number }>();

  apply(rule: DeviceRule): void {
    if (rule.type === 'a') {
      this.defaultAllow = rule.allow;
      this.exceptions.clear();
      return;
    }
    if (rule.allow === this.defaultAllow) this.remove(rule);
    else this.add(rule);
  }

  private add(rule: DeviceRule): void {
    const k = key(rule.type, rule.major, rule.minor);
    const old = this.exceptions.get(k);
    this.exceptions.set(k, { type: rule.type, major: rule.major, minor: rule.minor, bits: (old?.bits ?? 0) | accessBits(rule.access) });
  }

  private remove(rule: DeviceRule): void {
    const bits = accessBits(rule.access);
    for (const [major, minor] of [[-1, rule.minor], [rule.major, -1], [-1, -1]] as const) {
      if (major === rule.major && minor === rule.minor) continue;
      const wide = this.exceptions.get(key(rule.type, major, minor));
      if (wide !== undefined && (wide.bits & bits) !== 0) {
        throw invalidArgument(
          'cgroup_device_rule_unsupported',
          `linux.resources.devices: rule "${ruleString(rule)}" (${rule.allow ? 'allow' : 'deny'}) cannot punch a hole in the wider rule "${ruleString({ ...wide, access: accessString(wide.bits) })}"; the devices cgroup would ignore it`,
        );
      }
    }
    const k = key(rule.type, rule.major, rule.minor);
    const old = this.exceptions.get(k);
    if (old === undefined) return;
    const left = old.bits & ~bits;
    if (left === 0) this.exceptions.delete(k);
    else this.exceptions.set(k, { ...old, bits: left });
  }

  /** The exceptions in a stable order (major, minor, type), as rules with the non-default action. */
  rules(): DeviceRule[] {
    return [...this.exceptions.values()]
      // A plain comparison: localeCompare would load ICU's collator (15 ms) on the start-up path.
      .sort((a, b) => a.major - b.major || a.minor - b.minor || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))
      .map((e) => ({ type: e.type, major: e.major, minor: e.minor, access: accessString(e.bits), allow: !this.defaultAllow }));
  }

  static from(rules: readonly DeviceRule[]): DeviceEmulator {
    const emu = new DeviceEmulator();
    for (const r of rules) emu.apply(r);
    return emu;
  }

  /**
   * devices.list is the allow-list of a cgroup: "a *:* rwm" alone means
   * everything is allowed (and the deny exceptions cannot be seen).
   */
  static fromList(text: string): DeviceEmulator {
    const emu = new DeviceEmulator();
    for (const line of text.split('\n')) {
      const m = /^([abc]) (\d+|\*):(\d+|\*) ([rwm]+)$/.exec(line.trim());
      if (m === null) continue;
      const [, type, major, minor, access] = m as unknown as [string, DeviceType, string, string, string];
      const n = (v: string): number => (v === '*' ? -1 : Number(v));
      emu.apply({ type, major: n(major), minor: n(minor), access, allow: true });
    }
    return emu;
  }

  /**
   * The writes that move a cgroup from this state to `target` with the least
   * disruption: a reset only when the default changes (or the source is an
   * allow-all list, whose deny exceptions are unknown), then the dropped and
   * the gained access.
   */
  transition(target: DeviceEmulator): DeviceRule[] {
    const out: DeviceRule[] = [];
    let old = this.rules();
    if (this.defaultAllow || this.defaultAllow !== target.defaultAllow) {
      out.push({ type: 'a', major: -1, minor: -1, access: 'rwm', allow: target.defaultAllow });
      old = [];
    }
    const targetBits = new Map(target.rules().map((r) => [key(r.type, r.major, r.minor), accessBits(r.access)]));
    const oldBits = new Map(old.map((r) => [key(r.type, r.major, r.minor), accessBits(r.access)]));
    for (const r of old) {
      const dropped = accessBits(r.access) & ~(targetBits.get(key(r.type, r.major, r.minor)) ?? 0);
      if (dropped !== 0) out.push({ ...r, access: accessString(dropped), allow: target.defaultAllow });
    }
    for (const r of target.rules()) {
      const gained = accessBits(r.access) & ~(oldBits.get(key(r.type, r.major, r.minor)) ?? 0);
      if (gained !== 0) out.push({ ...r, access: accessString(gained), allow: !target.defaultAllow });
    }
    return out;
  }

  equals(other: DeviceEmulator): boolean {
    if (this.defaultAllow !== other.defaultAllow) return false;
    return JSON.stringify(this.rules()) === JSON.stringify(other.rules());
  }
}
