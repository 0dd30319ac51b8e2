/**
 * OpenFaaS's FunctionDeployment (the body of `POST`/`PUT /system/functions`,
 * api-docs/spec.openapi.yml of openfaas/faas) checked from `unknown` into a
 * FunctionSpec, each refusal naming the field. What OpenFaaS itself ignores
 * (`network`, `registryAuth`, `constraints`) is accepted and dropped; an
 * unknown field is refused, so a typo is not silently lost.
 */
import { parseDuration } from '../image/build/duration.ts';
import { invalidArgument } from '../errors.ts';
import { isObject } from '../json-object.ts';
import { autoscalingOf } from './autoscale-labels.ts';
import { retryPolicyOf } from './queue/retry.ts';

export const DEFAULT_NAMESPACE = 'openfaas-fn';

export const LABEL_FUNCTION = 'com.openfaas.function';
export const LABEL_SCALE_ZERO = 'com.openfaas.scale.zero';
export const LABEL_SCALE_ZERO_DURATION = 'com.openfaas.scale.zero-duration';
export const LABEL_SCALE_MIN = 'com.openfaas.scale.min';
export const LABEL_SCALE_MAX = 'com.openfaas.scale.max';

/** OpenFaaS's default idle time before a function goes to zero (its faas-idler's 15m). */
export const DEFAULT_ZERO_DURATION_MS = 15 * 60_000;
/** OpenFaaS's default maximum replicas. */
export const DEFAULT_SCALE_MAX = 20;

export interface FunctionResources {
  /** As given ("128Mi", "128M"), and in bytes. */
  memory?: string;
  /** As given ("0.5", "500m"), and in CPUs. */
  cpu?: string;
}

/** How a function scales, read from its labels. */
export interface Scaling {
  zero: boolean;
  zeroDurationMs: number;
  min: number;
  max: number;
}

export interface FunctionSpec {
  name: string;
  namespace: string;
  image: string;
  envProcess?: string;
  envVars: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  secrets: string[];
  limits?: FunctionResources;
  requests?: FunctionResources;
  readOnlyRootFilesystem: boolean;
  scaling: Scaling;
}

/** A DNS-1123 label, as OpenFaaS (and Kubernetes under it) requires of a function name. */
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IMAGE = /^[a-zA-Z0-9][a-zA-Z0-9._\-/:@]*$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET = /^[a-zA-Z0-9]([-._a-zA-Z0-9]*[a-zA-Z0-9])?$/;

const FIELDS = new Set([
  'service', 'image', 'namespace', 'envProcess', 'envVars', 'constraints', 'secrets', 'labels', 'annotations',
  'limits', 'requests', 'readOnlyRootFilesystem', 'registryAuth', 'network',
]);

function bad(field: string, why: string): never {
  throw invalidArgument('faas_deployment_invalid', `function deployment: ${field}: ${why}`);
}

export function checkFunctionName(value: unknown, field = 'service'): string {
  if (typeof value !== 'string' || value === '') bad(field, 'a function name is required (a string)');
  if (value.length > 63 || !NAME.test(value)) bad(field, `"${value}" is not a function name (lower-case letters, digits and "-", at most 63, starting and ending with a letter or digit)`);
  return value;
}

export function checkNamespace(value: unknown, field = 'namespace'): string {
  if (value === undefined || value === '') return DEFAULT_NAMESPACE;
  if (value !== DEFAULT_NAMESPACE) bad(field, `${JSON.stringify(value)}: only the namespace "${DEFAULT_NAMESPACE}" exists`);
  return value;
}

function stringMap(field: string, value: unknown, key: RegExp | undefined): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) bad(field, 'not an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') bad(`${field}.${k}`, 'not a string');
    if (key !== undefined && !key.test(k)) bad(field, `"${k}" is not a valid key`);
    if (k === '') bad(field, 'an empty key');
    out[k] = v;
  }
  return out;
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
  // docker's lower-case units, which faasd users also write
  m: 2 ** 20, g: 2 ** 30, b: 1,
};

/** A memory quantity ("128Mi", "128M", "64m", "1000000") in bytes. */
export function memoryBytes(field: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)([a-zA-Z]{0,2})$/.exec(raw);
  const unit = m === null ? undefined : MEMORY_UNITS[m[2] ?? ''];
  if (m === null || unit === undefined) bad(field, `"${raw}" is not a memory quantity (like 128Mi, 128M or 64m)`);
  const bytes = Math.floor(Number(m[1]) * unit);
  // The engine's own floor (docker's): a smaller limit kills the container before it starts.
  if (bytes < 6 * 2 ** 20) bad(field, `"${raw}" is below the minimum memory limit of 6Mi`);
  return bytes;
}

/** A CPU quantity ("0.5", "500m") in CPUs. */
export function cpus(field: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(m?)$/.exec(raw);
  if (m === null) bad(field, `"${raw}" is not a CPU quantity (like 0.5 or 500m)`);
  const n = m[2] === 'm' ? Number(m[1]) / 1000 : Number(m[1]);
  if (n < 0.01) bad(field, `"${raw}" is below the minimum of 0.01 CPU (10m)`);
  return n;
}

function resources(field: string, value: unknown): FunctionResources | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) bad(field, 'not an object with memory and cpu');
  const out: FunctionResources = {};
  for (const [k, v] of Object.entries(value)) {
    if (k !== 'memory' && k !== 'cpu') bad(`${field}.${k}`, 'unknown field (memory and cpu are known)');
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') bad(`${field}.${k}`, 'not a string');
    if (k === 'memory') memoryBytes(`${field}.memory`, v);
    else cpus(`${field}.cpu`, v);
    out[k] = v;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function count(field: string, raw: string): number {
  if (!/^\d{1,4}$/.test(raw)) bad(field, `"${raw}" is not a number of replicas (0 to 9999)`);
  return Number(raw);
}

/** The scaling labels, checked (a bad one is refused naming the label). */
export function scalingOf(labels: Readonly<Record<string, string>>): Scaling {
  const zeroRaw = labels[LABEL_SCALE_ZERO];
  if (zeroRaw !== undefined && zeroRaw !== 'true' && zeroRaw !== 'false') bad(`labels.${LABEL_SCALE_ZERO}`, `"${zeroRaw}" is not true or false`);
  let zeroDurationMs = DEFAULT_ZERO_DURATION_MS;
  const durationRaw = labels[LABEL_SCALE_ZERO_DURATION];
  if (durationRaw !== undefined) {
    try {
      zeroDurationMs = Math.round(parseDuration(durationRaw) / 1e6);
    } catch {
      bad(`labels.${LABEL_SCALE_ZERO_DURATION}`, `"${durationRaw}" is not a duration (like 2s, 5m or 1m30s)`);
    }
    if (zeroDurationMs < 100) bad(`labels.${LABEL_SCALE_ZERO_DURATION}`, `"${durationRaw}" is shorter than 100ms`);
  }
  const minRaw = labels[LABEL_SCALE_MIN];
  const maxRaw = labels[LABEL_SCALE_MAX];
  const min = minRaw === undefined ? 1 : count(`labels.${LABEL_SCALE_MIN}`, minRaw);
  const max = maxRaw === undefined ? DEFAULT_SCALE_MAX : count(`labels.${LABEL_SCALE_MAX}`, maxRaw);
  if (max < min) bad(`labels.${LABEL_SCALE_MAX}`, `${max} is below ${LABEL_SCALE_MIN} ${min}`);
  if (max === 0) bad(`labels.${LABEL_SCALE_MAX}`, 'a function needs at least one replica at most');
  return { zero: zeroRaw === 'true', zeroDurationMs, min, max };
}

/** A FunctionDeployment body, checked. */
export function parseDeployment(body: unknown): FunctionSpec {
  if (!isObject(body)) bad('body', 'not a JSON object (a FunctionDeployment)');
  for (const k of Object.keys(body)) if (!FIELDS.has(k)) bad(k, 'unknown field');
  const name = checkFunctionName(body['service']);
  const namespace = checkNamespace(body['namespace']);
  const image = body['image'];
  if (typeof image !== 'string' || image === '') bad('image', 'an image is required (a string)');
  if (!IMAGE.test(image)) bad('image', `"${image}" is not an image reference`);
  const envProcess = body['envProcess'];
  if (envProcess !== undefined && typeof envProcess !== 'string') bad('envProcess', 'not a string');
  const secretsRaw = body['secrets'] ?? [];
  if (!Array.isArray(secretsRaw)) bad('secrets', 'not an array of secret names');
  const secrets = secretsRaw.map((s: unknown, i) => {
    if (typeof s !== 'string' || !SECRET.test(s)) bad(`secrets[${i}]`, `${JSON.stringify(s)} is not a secret name`);
    return s;
  });
  const constraints = body['constraints'];
  if (constraints !== undefined && constraints !== null && !Array.isArray(constraints)) bad('constraints', 'not an array of strings');
  const readOnly = body['readOnlyRootFilesystem'] ?? false;
  if (typeof readOnly !== 'boolean') bad('readOnlyRootFilesystem', 'not true or false');
  const labels = stringMap('labels', body['labels'], undefined);
  const limits = resources('limits', body['limits']);
  const requests = resources('requests', body['requests']);
  const scaling = scalingOf(labels);
  autoscalingOf(labels, scaling.min, scaling.max);
  const annotations = stringMap('annotations', body['annotations'], undefined);
  // The async retry annotations are read when a call is tried; a bad one is refused now.
  retryPolicyOf(annotations);
  return {
    name,
    namespace,
    image,
    ...(envProcess === undefined || envProcess === '' ? {} : { envProcess }),
    envVars: stringMap('envVars', body['envVars'], ENV_KEY),
    labels,
    annotations,
    secrets,
    ...(limits === undefined ? {} : { limits }),
    ...(requests === undefined ? {} : { requests }),
    readOnlyRootFilesystem: readOnly,
    scaling,
  };
}

/** The replicas a function starts with (deploy, scale from zero): its minimum, at least one. */
export function initialReplicas(s: Scaling): number {
  return Math.max(1, s.min);
}

/**
 * The replicas a function is deployed with: none for a function that may
 * scale to zero and asks for a minimum of 0 (com.openfaas.scale.zero=true,
 * com.openfaas.scale.min=0: it starts on its first request, so thousands
 * can be deployed idle), else its initial replicas.
 */
export function deployReplicas(s: Scaling): number {
  return s.zero && s.min === 0 ? 0 : initialReplicas(s);
}
