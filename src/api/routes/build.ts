/**
 * `POST /build`: the body is the build context as a tar (gzip or not),
 * unpacked into a scratch directory with kernel-resolved paths (the layer
 * unpacker: nothing in it can write outside), then built by berth's builder
 * (src/image/build) with Docker's JSON stream (`{"stream":"Step 1/3 : ..."}`,
 * the RUN output, `{"aux":{"ID":...}}`). Query parameters the builder has
 * no equivalent for are refused by name when given a value, never ignored;
 * the legacy docker CLI sends most of them empty or zero on every build.
 * A client that goes away cancels the build (the builder cleans up).
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, normalize, sep } from 'node:path';
import type { Engine } from '../../engine/engine.ts';
import { invalidArgument, notFound, unsupported } from '../../errors.ts';
import { isObject } from '../../json-object.ts';
import type { BuildEvent } from '../../image/build/events.ts';
import { parsePlatform } from '../../image/registry/platform.ts';
import type { Query } from '../query.ts';
import { messageStream, pullProgress, type Emit } from '../docker/progress.ts';
import type { ApiServer } from '../server.ts';

/** Parameters with no builder equivalent, and the values that mean "not asked for". */
const REFUSED: readonly (readonly [string, readonly string[]])[] = [
  ['remote', ['']],
  ['cachefrom', ['', 'null', '[]']],
  ['extrahosts', ['']],
  ['securityopt', ['']],
  ['networkmode', ['', 'default']],
  ['cpusetcpus', ['']],
  ['cpusetmems', ['']],
  ['cgroupparent', ['']],
  ['cpushares', ['', '0']],
  ['cpuquota', ['', '0']],
  ['cpuperiod', ['', '0']],
  ['memory', ['', '0']],
  ['memswap', ['', '0']],
  ['shmsize', ['', '0']],
  ['ulimits', ['', 'null', '[]']],
  ['squash', ['', '0', 'false']],
  ['isolation', ['', 'default']],
  ['session', ['']],
  ['buildid', ['']],
  ['outputs', ['', 'null', '[]']],
  ['pull', ['', '0', 'false']],
  ['rm', ['', '1', 'true']],
  ['version', ['', '1']],
];

const WHY: Record<string, string> = {
  rm: 'berth never keeps a build\'s intermediate containers',
  version: 'BuildKit (version 2) is not served; the classic builder protocol is',
  pull: 'the builder pulls a base image only when it is missing',
};

export function refuseUnsupported(q: Query): void {
  for (const [name, unset] of REFUSED) {
    for (const v of q.all(name)) {
      if (unset.includes(v.trim())) continue;
      throw unsupported('api_build_option_unsupported', `build: query parameter "${name}"="${v}" is not supported${WHY[name] === undefined ? '' : ` (${WHY[name]})`}`);
    }
  }
}

/** A JSON object of strings in a query parameter (buildargs, labels); null values are left out, as docker does. */
function stringMap(q: Query, name: string): Map<string, string> {
  const raw = q.str(name) ?? '';
  const out = new Map<string, string>();
  if (raw === '' || raw === 'null') return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidArgument('api_query_invalid', `build: query parameter "${name}": not JSON`);
  }
  if (!isObject(parsed)) throw invalidArgument('api_query_invalid', `build: query parameter "${name}": want a JSON object of strings`);
  for (const [k, v] of Object.entries(parsed)) {
    if (v === null) continue;
    if (typeof v !== 'string') throw invalidArgument('api_query_invalid', `build: query parameter "${name}": "${k}" must map to a string`);
    out.set(k, v);
  }
  return out;
}

/** The Dockerfile named relative to the context, read only when it lies inside it. */
function readDockerfile(context: string, name: string): string {
  const rel = normalize(name);
  if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) {
    throw invalidArgument('api_query_invalid', `build: query parameter "dockerfile"="${name}": must name a file inside the context`);
  }
  let real: string;
  try {
    real = realpathSync(join(context, rel));
  } catch (err) {
    throw notFound('build_file', `build: Dockerfile "${name}": not in the build context`, { cause: err });
  }
  if (!real.startsWith(`${realpathSync(context)}${sep}`)) {
    throw invalidArgument('api_query_invalid', `build: Dockerfile "${name}": leads outside the build context`);
  }
  return readFileSync(real, 'utf8');
}

/** The builder's events as the classic builder words them. */
function render(emit: Emit): (e: BuildEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'step':
        emit({ stream: `Step ${e.step}/${e.total} : ${e.text}\n` });
        return;
      case 'cached':
        emit({ stream: ' ---> Using cache\n' });
        return;
      case 'run':
        emit({ stream: ` ---> Running in ${e.container}\n` });
        return;
      case 'output':
        emit({ stream: e.data.toString('utf8') });
        return;
      case 'layer':
        emit({ stream: ` ---> ${e.diffId.slice(7, 19)}\n` });
        return;
      case 'pull':
        emit({ status: `Pulling ${e.image}` });
        return;
      case 'warning':
        emit({ stream: `[WARNING]: ${e.message}\n` });
        return;
      case 'commit':
        return;
    }
  };
}

export function buildRoutes(server: ApiServer, engine: Engine): void {
  const store = engine.images;
  server.router.post('/build', async (req) => {
    const q = req.query;
    refuseUnsupported(q);
    const labels = stringMap(q, 'labels');
    if (labels.size > 0) throw unsupported('api_build_option_unsupported', `build: query parameter "labels" (${[...labels.keys()].join(', ')}) is not supported; use LABEL in the Dockerfile`);
    const tags = q.all('t').filter((t) => t !== '');
    for (const t of tags) store.canonicalTagged(t);
    const buildArgs = stringMap(q, 'buildargs');
    const target = q.str('target') ?? '';
    const platformText = q.str('platform') ?? '';
    const platform = platformText === '' ? undefined : parsePlatform(platformText);
    const noCache = q.bool('nocache');
    const quiet = q.bool('q');
    q.bool('forcerm'); // berth always removes a build's containers, failed or not
    const dockerfile = (q.str('dockerfile') ?? '') === '' ? 'Dockerfile' : q.str('dockerfile')!;

    const tmp = mkdtempSync(join(tmpdir(), 'berth-build-'));
    const remove = (): void => rmSync(tmp, { recursive: true, force: true });
    const context = join(tmp, 'context');
    let text: string;
    try {
      mkdirSync(context);
      const { unpackLayers } = await import('../../image/unpack/index.ts');
      await unpackLayers(context, [{ digest: 'build context', open: () => req.body }], { chown: false });
      text = readDockerfile(context, dockerfile);
    } catch (err) {
      remove();
      throw err;
    }
    const abort = new AbortController();
    req.signal.addEventListener('abort', () => abort.abort(), { once: true });
    return messageStream(async (emit) => {
      try {
        const { buildImage } = await import('../../image/build/builder.ts');
        const { pullImage } = await import('../../image/copy/pull.ts');
        const result = await buildImage(store, {
          containerfile: { text, name: dockerfile },
          context,
          tags,
          buildArgs,
          noCache,
          signal: abort.signal,
          onEvent: quiet ? () => undefined : render(emit),
          pull: async (name) => {
            const ref = store.parseName(name);
            if (ref.implicitDomain && store.defaults.registry === undefined) {
              throw notFound('build_image', `image "${name}": not in the store, and no default registry to pull it from (name one, as 127.0.0.1:5000/${ref.path})`);
            }
            return (await pullImage(store, ref, quiet ? {} : { progress: pullProgress(emit, ref.path, ref.tag ?? ref.digest ?? 'latest') })).image;
          },
          ...(target === '' ? {} : { target }),
          ...(platform === undefined ? {} : { platform }),
        });
        const id = result.image.id;
        emit({ aux: { ID: id } });
        if (quiet) {
          emit({ stream: `${id}\n` });
        } else {
          emit({ stream: `Successfully built ${id.slice(7, 19)}\n` });
          for (const n of tags) emit({ stream: `Successfully tagged ${n.includes(':') && n.lastIndexOf(':') > n.lastIndexOf('/') ? n : `${n}:latest`}\n` });
        }
        engine.events.publish('image', 'build', id, {});
      } finally {
        remove();
      }
    });
  });
}
