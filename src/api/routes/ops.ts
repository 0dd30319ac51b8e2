/**
 * The routes over src/engine/ops: `GET /containers/{id}/top`, `GET
 * /containers/{id}/stats` (one sample, or a stream of one per second),
 * `HEAD|GET|PUT /containers/{id}/archive` (docker cp), `GET
 * /containers/{id}/export` (the root filesystem as a tar, without volumes
 * and binds, as docker's), `GET /containers/{id}/changes` (docker diff),
 * `POST /containers/{id}/update`.
 */
import type { Engine } from '../../engine/engine.ts';
import { exportArchive, getArchive, putArchive, statPath, encodePathStat } from '../../engine/ops/archive.ts';
import { readStats, type DockerStats } from '../../engine/ops/stats.ts';
import { cgroupPids, top } from '../../engine/ops/top.ts';
import { containerChanges, withoutMountPoints } from '../../engine/ops/changes.ts';
import { invalidArgument } from '../../errors.ts';
import type { Router } from '../router.ts';
import { json, noContent, stream, type Reply } from '../reply.ts';
import { dockerUpdate } from '../docker/update.ts';


const PATH_STAT = 'X-Docker-Container-Path-Stat';

function pathParam(path: string | undefined): string {
  if (path === undefined || path === '') throw invalidArgument('api_query_invalid', 'archive: query parameter "path" is required');
  return path;
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
    const change = dockerUpdate(await req.json());
    await engine.update(req.params['id']!, change);
    return json({ Warnings: [] });
  });

  router.get('/containers/{id}/changes', async (req) => {
    const v = engine.view(req.params['id']!);
    const targets = engine.fsView(v.record.id).mounts.map((m) => m.target);
    if (v.options.run.init) targets.push('/sbin/berth-init');
    const changes = withoutMountPoints(await containerChanges(engine.paths.root, v.record.id), targets);
    // dockerd answers null, not [], for a container that changed nothing.
    return json(changes.length === 0 ? null : changes);
  });

  router.get('/containers/{id}/export', (req) => {
    const view = { ...engine.fsView(req.params['id']!), mounts: [] };
    return { type: 'stream', status: 200, contentType: 'application/x-tar', source: exportArchive(view) };
  });
}
