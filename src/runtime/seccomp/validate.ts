/**
 * Validation of `linux.seccomp` into a normalized profile: actions become
 * SECCOMP_RET_* values, argument values become 64-bit bigints, flags become
 * bits. The input is treated as `unknown` (it comes from config.json); every
 * error names the field path, e.g.
 * `linux.seccomp.syscalls[3].args[0].op: unknown operator "SCMP_CMP_FOO"`.
 *
 * Semantics follow runc on top of libseccomp where the runtime-spec is
 * silent: ERRNO and TRACE without errnoRet use EPERM; errnoRet on any other
 * action is rejected; SCMP_ACT_NOTIFY cannot be the default action and needs
 * listenerPath.
 */
import type { SeccompOperator } from '../../oci/runtime-spec.ts';
import { invalidArgument } from '../../errors.ts';
import { lookupScmpArch, type ArchDef } from './arch.ts';
import { SECCOMP_FILTER_FLAG, SECCOMP_RET, SECCOMP_RET_DATA } from './constants.ts';

export const FIELD = 'linux.seccomp';

export interface Condition {
  index: number;
  op: SeccompOperator;
  /** The compared value; for MASKED_EQ the mask (runtime-spec `value`). */
  value: bigint;
  /** MASKED_EQ only: the value compared after masking (runtime-spec `valueTwo`). */
  valueTwo: bigint;
}

export interface NormalizedRule {
  /** Field path of the rule, for messages. */
  path: string;
  names: string[];
  action: number;
  conditions: Condition[];
}

export interface NormalizedProfile {
  defaultAction: number;
  /** Listed supported architectures, in profile order (the native one is added later). */
  arches: ArchDef[];
  flags: number;
  rules: NormalizedRule[];
  listenerPath?: string;
  listenerMetadata?: string;
}

const EPERM = 1;
const MAX_U64 = (1n << 64n) - 1n;

const OPERATORS: ReadonlySet<string> = new Set<SeccompOperator>([
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
]);

const FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP_FILTER_FLAG.TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
};

function fail(path: string, message: string): never {
  throw invalidArgument('seccomp_invalid_profile', `${path}: ${message}`, { details: { field: path } });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalArray(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, 'must be an array');
  return v;
}

function optionalString(v: unknown, path: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(path, 'must be a string');
  return v;
}

/** A uint64 from JSON: a non-negative integer number (or a bigint). */
function toU64(v: unknown, path: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n || v > MAX_U64) fail(path, `${v} is outside the uint64 range`);
    return v;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, 'must be an unsigned integer');
  if (v < 0) fail(path, `${v} is negative; values are uint64`);
  const big = BigInt(v);
  if (big > MAX_U64) fail(path, `${v} is outside the uint64 range`);
  return big;
}

function errnoValue(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > SECCOMP_RET_DATA) {
    fail(path, `must be an integer from 0 to ${SECCOMP_RET_DATA}`);
  }
  return v;
}

/** The SECCOMP_RET_* value of a runtime-spec action name. */
function actionValue(name: unknown, errnoRet: number | undefined, path: string, errnoPath: string): number {
  if (typeof name !== 'string') fail(path, 'must be a string');
  const withData = (base: number): number => (base | ((errnoRet ?? EPERM) & SECCOMP_RET_DATA)) >>> 0;
  const noData = (value: number): number => {
    if (errnoRet !== undefined) fail(errnoPath, `is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${name}`);
    return value;
  };
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return noData(SECCOMP_RET.KILL_THREAD);
    case 'SCMP_ACT_KILL_PROCESS':
      return noData(SECCOMP_RET.KILL_PROCESS);
    case 'SCMP_ACT_TRAP':
      return noData(SECCOMP_RET.TRAP);
    case 'SCMP_ACT_ERRNO':
      return withData(SECCOMP_RET.ERRNO);
    case 'SCMP_ACT_TRACE':
      return withData(SECCOMP_RET.TRACE);
    case 'SCMP_ACT_ALLOW':
      return noData(SECCOMP_RET.ALLOW);
    case 'SCMP_ACT_LOG':
      return noData(SECCOMP_RET.LOG);
    case 'SCMP_ACT_NOTIFY':
      return noData(SECCOMP_RET.USER_NOTIF);
    default:
      return fail(path, `unknown action ${JSON.stringify(name)}`);
  }
}

function validateCondition(raw: unknown, path: string): Condition {
  if (!isRecord(raw)) fail(path, 'must be an object');
  const { index } = raw;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) {
    fail(`${path}.index`, 'must be an argument index from 0 to 5');
  }
  const { op } = raw;
  if (typeof op !== 'string') fail(`${path}.op`, 'must be a string');
  if (!OPERATORS.has(op)) fail(`${path}.op`, `unknown operator ${JSON.stringify(op)}`);
  const value = toU64(raw.value, `${path}.value`);
  const valueTwo = raw.valueTwo === undefined || raw.valueTwo === null ? 0n : toU64(raw.valueTwo, `${path}.valueTwo`);
  return { index, op: op as SeccompOperator, value, valueTwo };
}

function validateRule(raw: unknown, path: string): NormalizedRule {
  if (!isRecord(raw)) fail(path, 'must be an object');
  const names = optionalArray(raw.names, `${path}.names`);
  if (names.length === 0) fail(`${path}.names`, 'must list at least one syscall');
  const checked = names.map((n, i) => {
    if (typeof n !== 'string' || n === '') fail(`${path}.names[${i}]`, 'must be a non-empty syscall name');
    return n;
  });
  const errnoRet = errnoValue(raw.errnoRet, `${path}.errnoRet`);
  const action = actionValue(raw.action, errnoRet, `${path}.action`, `${path}.errnoRet`);
  const conditions = optionalArray(raw.args, `${path}.args`).map((a, i) => validateCondition(a, `${path}.args[${i}]`));
  return { path, names: checked, action, conditions };
}

function validateArches(raw: unknown): ArchDef[] {
  const arches: ArchDef[] = [];
  optionalArray(raw, `${FIELD}.architectures`).forEach((name, i) => {
    const path = `${FIELD}.architectures[${i}]`;
    if (typeof name !== 'string') fail(path, 'must be a string');
    const found = lookupScmpArch(name);
    if (found.kind === 'unknown') fail(path, `unknown architecture ${JSON.stringify(name)}`);
    if (found.kind === 'supported' && !arches.includes(found.arch)) arches.push(found.arch);
  });
  return arches;
}

function validateFlags(raw: unknown): number {
  let flags = 0;
  optionalArray(raw, `${FIELD}.flags`).forEach((name, i) => {
    const path = `${FIELD}.flags[${i}]`;
    if (typeof name !== 'string') fail(path, 'must be a string');
    const bit = FLAGS[name];
    if (bit === undefined) fail(path, `unknown flag ${JSON.stringify(name)}`);
    flags |= bit;
  });
  return flags;
}

export function validateProfile(raw: unknown): NormalizedProfile {
  if (!isRecord(raw)) fail(FIELD, 'must be an object');
  const defaultErrno = errnoValue(raw.defaultErrnoRet, `${FIELD}.defaultErrnoRet`);
  const defaultAction = actionValue(
    raw.defaultAction,
    defaultErrno,
    `${FIELD}.defaultAction`,
    `${FIELD}.defaultErrnoRet`,
  );
  if (defaultAction === SECCOMP_RET.USER_NOTIF) {
    fail(`${FIELD}.defaultAction`, 'SCMP_ACT_NOTIFY cannot be the default action');
  }
  const rules = optionalArray(raw.syscalls, `${FIELD}.syscalls`).map((r, i) => validateRule(r, `${FIELD}.syscalls[${i}]`));
  const listenerPath = optionalString(raw.listenerPath, `${FIELD}.listenerPath`);
  const listenerMetadata = optionalString(raw.listenerMetadata, `${FIELD}.listenerMetadata`);
  const notify = rules.some((r) => r.action === SECCOMP_RET.USER_NOTIF);
  if (notify && (listenerPath === undefined || listenerPath === '')) {
    fail(`${FIELD}.listenerPath`, 'is required when a rule uses SCMP_ACT_NOTIFY');
  }
  const profile: NormalizedProfile = {
    defaultAction,
    arches: validateArches(raw.architectures),
    flags: validateFlags(raw.flags),
    rules,
  };
  if (listenerPath !== undefined) profile.listenerPath = listenerPath;
  if (listenerMetadata !== undefined) profile.listenerMetadata = listenerMetadata;
  return profile;
}
