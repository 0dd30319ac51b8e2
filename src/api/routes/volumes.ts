/**
 * The volume routes of the Docker Engine API (`/volumes...`) over the
 * engine's VolumeStore, in docker's shapes (Volume, VolumeListResponse,
 * VolumePruneResponse).
 */
import type { Engine } from '../../engine/engine.ts';
import type { VolumeRecord } from '../../engine/volumes/volumes.ts';
import { invalidArgument } from '../../errors.ts';
import type { Router } from '../router.ts';
import { json, noContent } from '../reply.ts';
import { isObject } from '../../json-object.ts';

export function dockerVolume(v: VolumeRecord): Record<string, unknown> {
  return {
    Name: v.name,
    Driver: v.driver,
    Mountpoint: v.mountpoint,
    CreatedAt: v.createdAt,
    Labels: v.labels,
    Scope: 'local',
    Options: null,
    UsageData: { Size: -1, RefCount: v.usedBy.length },
  };
}


const VOLUME_FILTERS = new Set(['name', 'label', 'dangling', 'driver']);

export function volumeRoutes(router: Router, engine: Engine): void {
  router.get('/volumes', (req) => {
    const f = req.query.filters();
    for (const key of f.keys()) if (!VOLUME_FILTERS.has(key)) throw invalidArgument('api_filters_invalid', `filter "${key}": not a volume filter (name, label, dangling, driver)`);
    const dangling = f.get('dangling')?.[0];
    if (dangling !== undefined && !['true', 'false', '1', '0'].includes(dangling)) throw invalidArgument('api_filters_invalid', `filter dangling="${dangling}": want true or false`);
    const drivers = f.get('driver');
    const list = engine.volumes
      .list({
        ...(f.has('name') ? { name: [...f.get('name')!] } : {}),
        ...(f.has('label') ? { label: [...f.get('label')!] } : {}),
        ...(dangling === undefined ? {} : { dangling: dangling === 'true' || dangling === '1' }),
      })
      .filter((v) => drivers === undefined || drivers.includes(v.driver));
    return json({ Volumes: list.map(dockerVolume), Warnings: [] });
  });

  router.post('/volumes/create', async (req) => {
    const body = (await req.json()) ?? {};
    if (!isObject(body)) throw invalidArgument('api_body_invalid', 'volume create: the body must be a JSON object');
    const name = body['Name'];
    const driver = body['Driver'];
    const labels = body['Labels'];
    const opts = body['DriverOpts'];
    if (name !== undefined && typeof name !== 'string') throw invalidArgument('api_body_invalid', 'volume create: field "Name" must be a string');
    if (driver !== undefined && driver !== '' && typeof driver !== 'string') throw invalidArgument('api_body_invalid', 'volume create: field "Driver" must be a string');
    if (labels !== undefined && labels !== null && !(isObject(labels) && Object.values(labels).every((x) => typeof x === 'string'))) {
      throw invalidArgument('api_body_invalid', 'volume create: field "Labels" must map names to strings');
    }
    if (isObject(opts) && Object.keys(opts).length > 0) {
      throw invalidArgument('api_body_invalid', `volume create: driver options ${Object.keys(opts).join(', ')}: the local driver here takes none`);
    }
    const v = engine.volumes.create({
      ...(typeof name === 'string' && name !== '' ? { name } : {}),
      ...(typeof driver === 'string' && driver !== '' ? { driver } : {}),
      ...(isObject(labels) ? { labels: labels as Record<string, string> } : {}),
    });
    engine.events.publish('volume', 'create', v.name, { driver: v.driver });
    return json(dockerVolume(v), 201);
  });

  router.get('/volumes/{name}', (req) => json(dockerVolume(engine.volumes.inspect(req.params['name']!))));

  router.delete('/volumes/{name}', (req) => {
    engine.volumes.remove(req.params['name']!, { force: req.query.bool('force') });
    engine.events.publish('volume', 'destroy', req.params['name']!, {});
    return noContent();
  });

  router.post('/volumes/prune', (req) => {
    const f = req.query.filters();
    const all = f.get('all')?.[0];
    const result = engine.volumes.prune({ all: all === 'true' || all === '1', ...(f.has('label') ? { label: [...f.get('label')!] } : {}) });
    for (const name of result.removed) engine.events.publish('volume', 'destroy', name, {});
    return json({ VolumesDeleted: result.removed, SpaceReclaimed: result.spaceReclaimed });
  });
}
