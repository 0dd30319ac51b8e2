/**
 * `--change` words, as `docker import --change` and the Docker API's
 * `changes` take them: Dockerfile instructions (CMD, ENTRYPOINT, ENV,
 * LABEL, WORKDIR, USER, EXPOSE, STOPSIGNAL) applied to an image config.
 */
import { invalidArgument } from '../../errors.ts';
import type { ImageConfigDetails } from '../../oci/image-spec.ts';

function words(value: string): string[] {
  const v = value.trim();
  if (v.startsWith('[')) {
    const parsed: unknown = JSON.parse(v);
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new Error('want a JSON array of strings');
    return parsed;
  }
  return ['/bin/sh', '-c', v];
}

function keyValues(value: string): [string, string][] {
  return value.split(/\s+/).filter(Boolean).map((kv) => {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Error(`"${kv}" is not KEY=VALUE`);
    return [kv.slice(0, i), kv.slice(i + 1).replace(/^"(.*)"$/, '$1')];
  });
}

export function applyChange(config: ImageConfigDetails, change: string): void {
  const m = /^\s*([A-Za-z]+)\s+(.*)$/s.exec(change);
  if (m === null) throw invalidArgument('invalid_change', `--change "${change}": want INSTRUCTION VALUE`);
  const [, word = '', value = ''] = m;
  try {
    switch (word.toUpperCase()) {
      case 'CMD':
        config.Cmd = words(value);
        break;
      case 'ENTRYPOINT':
        config.Entrypoint = words(value);
        break;
      case 'ENV':
        config.Env = [...(config.Env ?? []), ...keyValues(value).map(([k, v]) => `${k}=${v}`)];
        break;
      case 'LABEL':
        config.Labels = { ...config.Labels, ...Object.fromEntries(keyValues(value)) };
        break;
      case 'WORKDIR':
        config.WorkingDir = value.trim();
        break;
      case 'USER':
        config.User = value.trim();
        break;
      case 'EXPOSE':
        config.ExposedPorts = { ...config.ExposedPorts, ...Object.fromEntries(value.split(/\s+/).filter(Boolean).map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) };
        break;
      case 'STOPSIGNAL':
        config.StopSignal = value.trim();
        break;
      default:
        throw new Error(`instruction "${word}" is not supported (CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, EXPOSE, STOPSIGNAL)`);
    }
  } catch (err) {
    throw invalidArgument('invalid_change', `--change "${change}": ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
