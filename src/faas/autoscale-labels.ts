/**
 * The autoscaling labels of a function, as OpenFaaS Pro reads them
 * (docs.openfaas.com/architecture/autoscaling):
 *
 *   com.openfaas.scale.type               rps (default) | capacity | cpu
 *   com.openfaas.scale.target             load per replica: requests per second, requests in flight, or milli-CPU (default 50)
 *   com.openfaas.scale.target-proportion  how early to scale, a fraction of the target (default 0.90)
 *   com.openfaas.scale.down.window        scale down only to the highest replica count recommended within it
 *
 * Autoscaling applies to a function that names its type, target,
 * target-proportion or max, with max above min: a function with none of
 * them keeps the replicas it is deployed or scaled with, as on OpenFaaS
 * CE and faasd (so `scale-function` stays in charge there). The down
 * window is off on OpenFaaS by default; here it is 30s by default, so that
 * a load that comes and goes does not start and stop replicas each time.
 */
import { parseDuration } from '../image/build/duration.ts';
import { invalidArgument } from '../errors.ts';

export const LABEL_SCALE_TYPE = 'com.openfaas.scale.type';
export const LABEL_SCALE_TARGET = 'com.openfaas.scale.target';
export const LABEL_SCALE_TARGET_PROPORTION = 'com.openfaas.scale.target-proportion';
export const LABEL_SCALE_DOWN_WINDOW = 'com.openfaas.scale.down.window';

export type ScaleType = 'rps' | 'capacity' | 'cpu';

export interface Autoscaling {
  enabled: boolean;
  type: ScaleType;
  target: number;
  targetProportion: number;
  downWindowMs: number;
}

export const DEFAULT_SCALE_TARGET = 50;
export const DEFAULT_TARGET_PROPORTION = 0.9;
export const DEFAULT_DOWN_WINDOW_MS = 30_000;
/** OpenFaaS's own ceiling for the down window. */
const MAX_DOWN_WINDOW_MS = 5 * 60_000;

function bad(label: string, why: string): never {
  throw invalidArgument('faas_deployment_invalid', `function deployment: labels.${label}: ${why}`);
}

/** The autoscaling labels, checked (a bad one is refused naming the label); min and max are the function's scale bounds. */
export function autoscalingOf(labels: Readonly<Record<string, string>>, min: number, max: number): Autoscaling {
  const typeRaw = labels[LABEL_SCALE_TYPE];
  if (typeRaw !== undefined && typeRaw !== 'rps' && typeRaw !== 'capacity' && typeRaw !== 'cpu') bad(LABEL_SCALE_TYPE, `"${typeRaw}" is not rps, capacity or cpu`);
  const targetRaw = labels[LABEL_SCALE_TARGET];
  let target = DEFAULT_SCALE_TARGET;
  if (targetRaw !== undefined) {
    if (!/^\d{1,7}$/.test(targetRaw) || Number(targetRaw) === 0) bad(LABEL_SCALE_TARGET, `"${targetRaw}" is not a load per replica (a whole number, 1 or more)`);
    target = Number(targetRaw);
  }
  const proportionRaw = labels[LABEL_SCALE_TARGET_PROPORTION];
  let targetProportion = DEFAULT_TARGET_PROPORTION;
  if (proportionRaw !== undefined) {
    const p = /^\d*\.?\d+$/.test(proportionRaw) ? Number(proportionRaw) : NaN;
    if (!(p > 0 && p <= 1)) bad(LABEL_SCALE_TARGET_PROPORTION, `"${proportionRaw}" is not a fraction of the target (above 0, at most 1.0)`);
    targetProportion = p;
  }
  const windowRaw = labels[LABEL_SCALE_DOWN_WINDOW];
  let downWindowMs = DEFAULT_DOWN_WINDOW_MS;
  if (windowRaw !== undefined) {
    try {
      downWindowMs = Math.round(parseDuration(windowRaw) / 1e6);
    } catch {
      bad(LABEL_SCALE_DOWN_WINDOW, `"${windowRaw}" is not a duration (like 30s or 2m)`);
    }
    if (downWindowMs > MAX_DOWN_WINDOW_MS) bad(LABEL_SCALE_DOWN_WINDOW, `"${windowRaw}" is longer than 5m`);
  }
  const asked = typeRaw !== undefined || targetRaw !== undefined || proportionRaw !== undefined || labels['com.openfaas.scale.max'] !== undefined;
  return { enabled: asked && max > Math.max(min, 1), type: typeRaw ?? 'rps', target, targetProportion, downWindowMs };
}

/**
 * OpenFaaS's rule: desired = ready replicas × (mean load per replica /
 * (target × proportion)), which is the whole load over (target ×
 * proportion), rounded up and kept within [max(min, 1), max].
 */
export function desiredReplicas(load: number, a: Pick<Autoscaling, 'target' | 'targetProportion'>, min: number, max: number): number {
  const raw = Math.ceil(load / (a.target * a.targetProportion) - 1e-9);
  return Math.min(max, Math.max(min, 1, raw));
}
