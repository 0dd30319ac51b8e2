/**
 * Docker's ContainerUpdate body (the Resources of HostConfig and a
 * RestartPolicy) as the engine's update: the same readings as create's
 * (create.ts), so `docker update --memory 64m` and `docker run --memory
 * 64m` give one limit; a resource berth does not set is refused by name.
 */
import type { LinuxResources } from '../../oci/runtime-spec.ts';
import { parseRestart, type RestartPolicy } from '../../engine/spec/options.ts';
import { parseResources } from '../../engine/spec/resources.ts';
import { applyCfs, HOST_DEFAULTS, HOST_UNSUPPORTED, renamed, resourceFlags, restartFlag } from './create.ts';
import { Fields, fieldUnsupported } from './json-fields.ts';

export interface DockerUpdate {
  resources: LinuxResources;
  restart?: RestartPolicy;
}

export function dockerUpdate(body: unknown): DockerUpdate {
  const b = new Fields('', body);
  for (const key of HOST_UNSUPPORTED) b.refuseUnlessDefault(key, HOST_DEFAULTS[key] ?? []);
  const flags = resourceFlags(b);
  if ((flags.ulimit ?? []).length > 0) throw fieldUnsupported('Ulimits', 'limits are set when a process starts: recreate the container');
  const raw = restartFlag(b);
  try {
    const { resources } = parseResources(flags);
    const out = { resources };
    applyCfs(b, out);
    return { resources: out.resources, ...(raw === undefined ? {} : { restart: parseRestart(raw) }) };
  } catch (err) {
    throw renamed(err);
  }
}
