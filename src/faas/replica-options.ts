/**
 * A function's spec as the engine's run options for one replica: the
 * default network with no port published (the gateway reaches the replica
 * at its bridge address, port 8080), OpenFaaS's labels, envVars and
 * `fprocess`, the limits, a read-only root when asked, no restart policy
 * (the gateway replaces a replica that dies: src/faas/replicas.ts).
 *
 * A function with a process (`envProcess`, or `fprocess` in its image's
 * Env as OpenFaaS's images have) runs berth's watchdog as the replica's
 * process: build/berth-watchdog bind-mounted read-only at
 * /.berth/watchdog, with `port=8080` and the deployment's envVars (mode,
 * exec_timeout, max_inflight, ...) as its configuration. The path is a
 * dot-directory at the root named for berth: no image layout or
 * distribution puts anything there, and the mount shadows only that path,
 * so the watchdog cannot hide or replace a file the function needs. With a
 * read-only root, /tmp is a tmpfs (the watchdog's /tmp/.lock). Without a
 * process the image's entrypoint and command run and must serve :8080.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseRunOptions, type RunOptions } from '../engine/spec/options.ts';
import { buildDir } from '../paths.ts';
import { notFound } from '../errors.ts';
import { cpus, LABEL_FUNCTION, memoryBytes, type FunctionSpec } from './deployment.ts';
import { SECRETS_MOUNT } from './secrets.ts';

export const LABEL_NAMESPACE = 'com.openfaas.namespace';
export const LABEL_REVISION = 'com.berth.faas.revision';
/** Set on replicas that run the watchdog, so that an adopting berthd checks their readiness the same way. */
export const LABEL_WATCHDOG = 'com.berth.faas.watchdog';
export const REPLICA_PORT = 8080;
export const WATCHDOG_TARGET = '/.berth/watchdog';

function noSecrets(name: string): never {
  throw notFound('faas_secret_not_found', `secret "${name}": no secret store to mount it from`);
}

export function replicaName(fn: string): string {
  return `${fn}-${randomBytes(3).toString('hex')}`;
}

/** The watchdog on the host: BERTH_WATCHDOG, or build/berth-watchdog beside the bundle. */
export function watchdogPath(): string {
  const env = process.env['BERTH_WATCHDOG'];
  return env !== undefined && env !== '' ? env : join(buildDir(), 'berth-watchdog');
}

/** Whether a replica runs the watchdog: the deployment or its image (Env) names a process. */
export function runsWatchdog(spec: FunctionSpec, imageEnv: readonly string[]): boolean {
  return spec.envProcess !== undefined || imageEnv.some((e) => e.startsWith('fprocess='));
}

/**
 * `secretFiles` maps each of the spec's secrets to its file on the host:
 * each is bound read-only at /var/openfaas/secrets/NAME (src/faas/secrets.ts).
 */
export function replicaOptions(spec: FunctionSpec, revision: number, watchdog = spec.envProcess !== undefined, secretFiles: (name: string) => string = noSecrets): RunOptions {
  const secrets = spec.secrets.map((s) => `${secretFiles(s)}:${SECRETS_MOUNT}/${s}:ro`);
  const env = Object.entries(spec.envVars).map(([k, v]) => `${k}=${v}`);
  if (spec.envProcess !== undefined) env.push(`fprocess=${spec.envProcess}`);
  // Last, so that it wins: the gateway reaches replicas on 8080 only.
  if (watchdog) env.push(`port=${REPLICA_PORT}`);
  const labels = {
    ...spec.labels,
    [LABEL_FUNCTION]: spec.name,
    [LABEL_NAMESPACE]: spec.namespace,
    [LABEL_REVISION]: String(revision),
    ...(watchdog ? { [LABEL_WATCHDOG]: 'true' } : {}),
  };
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
    ...(watchdog
      ? {
          entrypoint: JSON.stringify([WATCHDOG_TARGET]),
          volume: [`${watchdogPath()}:${WATCHDOG_TARGET}:ro`, ...secrets],
          ...(spec.readOnlyRootFilesystem ? { tmpfs: ['/tmp'] } : {}),
        }
      : secrets.length > 0
        ? { volume: secrets }
        : {}),
  });
}
