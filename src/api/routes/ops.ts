/**
 * The routes over src/engine/ops: `GET /containers/{id}/top`, `GET
 * /containers/{id}/stats` (one sample, or a stream of one per second),
 * `HEAD|GET|PUT /containers/{id}/archive` (docker cp), `POST
 * /containers/{id}/update`.
 */
import type { Engine } from '../../engine/engine.ts';
import { getArchive, putArchive, statPath, encodePathStat } from '../../engine/ops/archive.ts';
import { readStats, type DockerStats } from '../../engine/ops/stats.ts';
import { cgroupPids, top } from '../../engine/ops/top.ts';
import { parseResources } from '../../engine/spec/resources.ts';
import { parseRestart } from '../../engine/spec/options.ts';
import { invalidArgument } from '../../errors.ts';
import type { LinuxResources } from '../../oci/runtime-spec.ts';
import type { Router } from '../router.ts';
import { json, noContent, stream, type Reply } from '../reply.ts';
import { isObject } from '../../json-object.ts';


const PATH_STAT = 'X-Docker-Container-Path-Stat';

function pathParam(path: string | undefined): string {
  if (path === undefined || path === '') throw invalidArgument('api_query_invalid', 'archive: query parameter "path" is required');
  return path;
}

/** Docker's update body (Memory, MemorySwap, NanoCpus, CpuShares, PidsLimit, RestartPolicy) as runtime resources and a policy. */
function updateFrom(body: unknown): { resources: LinuxResources; restart?: ReturnType<typeof parseRestart> } {
  if (!isObject(body)) throw invalidArgument('api_body_invalid', 'update: the body must be a JSON object');
  const num = (k: string): string | undefined => {
    const v = body[k];
    if (v === undefined || v === null || v === 0) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalidArgument('api_body_invalid', `update: field "${k}" must be an integer`);
    return String(v);
  };
  const nano = num('NanoCpus');
  const parsed = parseResources({
    ...(num('Memory') === undefined ? {} : { memory: num('Memory') }),
    ...(num('MemorySwap') === undefined ? {} : { memorySwap: num('MemorySwap') }),
    ...(nano === undefined ? {} : { cpus: String(Number(nano) / 1e9) }),
    ...(num('CpuShares') === undefined ? {} : { cpuShares: num('CpuShares') }),
    ...(num('PidsLimit') === undefined ? {} : { pidsLimit: num('PidsLimit') }),
  });
  const rp = body['RestartPolicy'];
  let restart: ReturnType<typeof parseRestart> | undefined;
  if (isObject(rp) && typeof rp['Name'] === 'string' && rp['Name'] !== '') {
    const max = typeof rp['MaximumRetryCount'] === 'number' && rp['MaximumRetryCount'] > 0 ? `:${rp['MaximumRetryCount']}` : '';
    restart = parseRestart(`${rp['Name']}${rp['Name'] === 'on-failure' ? max : ''}`);
  }
  return { resources: parsed.resources, ...(restart === undefined ? {} : { restart }) };
}

export function opsRoutes(router: Router, engine: Engine): void {
  router.get('/containers/{id}/top', async (req) => {
    const rec = await engine.runtimeRecord(req.params['id']!);
    const pids = rec.cgroup === undefined ? [rec.pid] : await cgroupPids(rec.cgroup);
    return json(await top(pids, req.query.str('ps_args') ?? ''));
  });

  router.get('/containers/{id}/stats', async (req) => {
    const id = engine.find(req.params['id']!).id;
    const streaming = req.query.bool('stream', true) && !req.query.bool('one-shot');
    const sample = async (previous?: DockerStats): Promise<DockerStats & { id: string; name: string }> => {
      const rec = await engine.runtimeRecord(id);
      if (rec.cgroup === undefined) throw invalidArgument('api_query_invalid', `container "${id}": has no cgroup to read stats from`);
      const s = await readStats(rec.cgroup, rec.pid, previous === undefined ? {} : { previous });
      return { ...s, id, name: `/${engine.find(id).name}` };
    };
    if (!streaming) return json(await sample());
    async function* samples(): AsyncGenerator<string> {
      let previous: DockerStats | undefined;
      while (!req.signal.aborted) {
        let s: DockerStats;
        try {
          s = await sample(previous);
        } catch {
          return; // stopped or removed: the stream ends, as docker's
        }
        yield `${JSON.stringify(s)}\n`;
        previous = s;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    return stream(samples());
  });

  const head = (path: string, id: string): Reply => {
    const stat = statPath(engine.fsView(id), path);
    return { type: 'empty', status: 200, headers: { [PATH_STAT]: encodePathStat(stat) } };
  };
  router.head('/containers/{id}/archive', (req) => head(pathParam(req.query.str('path')), req.params['id']!));

  router.get('/containers/{id}/archive', (req) => {
    const { stat, stream: tar } = getArchive(engine.fsView(req.params['id']!), pathParam(req.query.str('path')));
    return { type: 'stream', status: 200, contentType: 'application/x-tar', source: tar, headers: { [PATH_STAT]: encodePathStat(stat) } };
  });

  router.put('/containers/{id}/archive', async (req) => {
    const path = pathParam(req.query.str('path'));
    const view = engine.fsView(req.params['id']!);
    await putArchive(view, path, req.body, { noOverwriteDirNonDir: req.query.bool('noOverwriteDirNonDir') });
    return noContent(200);
  });

  router.post('/containers/{id}/update', async (req) => {
    const change = updateFrom(await req.json());
    await engine.update(req.params['id']!, change);
    return json({ Warnings: [] });
  });
}
