/**
 * A function's spec as the engine's run options for one replica: the
 * default network with no port published (the gateway reaches the replica
 * at its bridge address, port 8080), OpenFaaS's labels, envVars and
 * `fprocess`, the limits, a read-only root when asked, no restart policy
 * (the gateway replaces a replica that dies: src/faas/replicas.ts).
 *
 * Until berth's watchdog exists, `envProcess` is also the replica's own
 * process (`/bin/sh -c ENVPROCESS`) and must serve HTTP on :8080 itself, as
 * a function in of-watchdog's `http` mode does behind its watchdog; without
 * it the image's entrypoint and command run.
 */
import { randomBytes } from 'node:crypto';
import { parseRunOptions, type RunOptions } from '../engine/spec/options.ts';
import { cpus, LABEL_FUNCTION, memoryBytes, type FunctionSpec } from './deployment.ts';

export const LABEL_NAMESPACE = 'com.openfaas.namespace';
export const LABEL_REVISION = 'com.berth.faas.revision';
export const REPLICA_PORT = 8080;

export function replicaName(fn: string): string {
  return `${fn}-${randomBytes(3).toString('hex')}`;
}

export function replicaOptions(spec: FunctionSpec, revision: number): RunOptions {
  const env = Object.entries(spec.envVars).map(([k, v]) => `${k}=${v}`);
  if (spec.envProcess !== undefined) env.push(`fprocess=${spec.envProcess}`);
  const labels = { ...spec.labels, [LABEL_FUNCTION]: spec.name, [LABEL_NAMESPACE]: spec.namespace, [LABEL_REVISION]: String(revision) };
  const memory = spec.limits?.memory;
  const cpu = spec.limits?.cpu;
  return parseRunOptions({
    name: replicaName(spec.name),
    env,
    label: Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    readOnly: spec.readOnlyRootFilesystem,
    network: 'bridge',
    ...(memory === undefined ? {} : { memory: String(memoryBytes('limits.memory', memory)) }),
    ...(cpu === undefined ? {} : { cpus: String(cpus('limits.cpu', cpu)) }),
    ...(spec.envProcess === undefined ? {} : { entrypoint: JSON.stringify(['/bin/sh', '-c', spec.envProcess]) }),
  });
}
