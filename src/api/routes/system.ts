/**
 * `GET /events` (Docker's event stream, with since/until and filters) and
 * `GET /system/df` (disk use of images, containers and volumes).
 */
import type { Engine } from '../../engine/engine.ts';
import type { EngineEvent } from '../../engine/events.ts';
import { upperDir } from '../../engine/disk.ts';
import { containerSizes } from '../../engine/ops/disk.ts';
import { directorySize } from '../../engine/volumes/size.ts';
import { invalidArgument } from '../../errors.ts';
import type { Filters } from '../query.ts';
import type { Router } from '../router.ts';
import { json, stream } from '../reply.ts';
import { summarizeContainer } from '../docker/containers.ts';
import { dockerVolume } from './volumes.ts';

const EVENT_FILTERS = new Set(['container', 'event', 'image', 'label', 'network', 'type', 'volume']);

function eventMatches(e: EngineEvent, f: Filters): boolean {
  for (const [key, values] of f) {
    if (!EVENT_FILTERS.has(key)) throw invalidArgument('api_filters_invalid', `filter "${key}": not an event filter (${[...EVENT_FILTERS].join(', ')})`);
    if (values.length === 0) continue;
    const a = e.Actor.Attributes;
    const ok =
      key === 'type' ? values.includes(e.Type)
      : key === 'event' ? values.includes(e.Action) || values.includes(e.Action.split(':')[0]!)
      : key === 'container' ? e.Type === 'container' && values.some((v) => e.Actor.ID.startsWith(v) || a['name'] === v)
      : key === 'volume' ? e.Type === 'volume' && values.includes(e.Actor.ID)
      : key === 'network' ? e.Type === 'network' && values.some((v) => e.Actor.ID.startsWith(v) || a['name'] === v)
      : key === 'image' ? values.some((v) => a['image'] === v || (e.Type === 'image' && e.Actor.ID === v))
      : values.every((v) => (v.includes('=') ? a[v.slice(0, v.indexOf('='))] === v.slice(v.indexOf('=') + 1) : v in a));
    if (!ok) return false;
  }
  return true;
}

/** Unix seconds (with fraction) or RFC 3339 → nanoseconds. */
function timeParam(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1e9);
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw invalidArgument('api_query_invalid', `query parameter ${name}="${raw}": not a time`);
  return t * 1e6;
}

export function systemRoutes(router: Router, engine: Engine): void {
  router.get('/events', (req) => {
    const since = timeParam(req.query.str('since'), 'since');
    const until = timeParam(req.query.str('until'), 'until');
    const filters = req.query.filters();
    for (const key of filters.keys()) if (!EVENT_FILTERS.has(key)) throw invalidArgument('api_filters_invalid', `filter "${key}": not an event filter`);
    async function* events(): AsyncGenerator<string> {
      const queue: EngineEvent[] = since === undefined ? [] : engine.events.since(since);
      let wake: (() => void) | undefined;
      const unsubscribe = engine.events.subscribe((e) => {
        queue.push(e);
        wake?.();
      });
      const timer = until === undefined ? undefined : setTimeout(() => wake?.(), Math.max(0, until / 1e6 - Date.now()));
      try {
        yield '';
        for (;;) {
          while (queue.length > 0) {
            const e = queue.shift()!;
            if (until !== undefined && e.timeNano > until) return;
            if (eventMatches(e, filters)) yield `${JSON.stringify(e)}\n`;
          }
          if (until !== undefined && Date.now() * 1e6 >= until) return;
          if (req.signal.aborted) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
            req.signal.addEventListener('abort', () => resolve(), { once: true });
          });
          wake = undefined;
        }
      } finally {
        unsubscribe();
        if (timer !== undefined) clearTimeout(timer);
      }
    }
    return stream(events());
  });

  /** docker image prune: dangling images (all unused with dangling=false), then unreferenced blobs. */
  router.post('/images/prune', async (req) => {
    const dangling = req.query.filters().get('dangling')?.[0] ?? 'true';
    const deleted: { Deleted: string }[] = [];
    if (dangling === 'false' || dangling === '0') {
      const used = new Set(engine.containers.list().map((c) => c.imageId));
      for (const img of engine.images.list()) if (!used.has(img.id) && engine.images.deleteImage(img.id)) deleted.push({ Deleted: img.id });
    }
    const { prune } = await import('../../image/store/gc.ts');
    const r = await prune(engine.images, { dangling: true });
    for (const id of r.images) deleted.push({ Deleted: id });
    return json({ ImagesDeleted: deleted, SpaceReclaimed: r.bytes });
  });

  router.get('/system/df', async () => {
    const images = engine.images.list().map((img) => {
      const users = engine.containers.list().filter((c) => c.imageId === img.id).length;
      return { Id: img.id, ParentId: '', RepoTags: img.names, RepoDigests: [], Created: Math.floor(Date.parse(img.created ?? '') / 1000) || 0, Size: img.size, SharedSize: -1, VirtualSize: img.size, Labels: {}, Containers: users };
    });
    const containers = [];
    for (const v of engine.list()) {
      const upper = await upperDir(engine.paths.root, v.record.id);
      const imageSize = engine.images.get(v.record.imageId)?.size ?? 0;
      containers.push({ ...summarizeContainer(v), ...(upper === undefined ? { SizeRw: 0, SizeRootFs: imageSize } : containerSizes(upper, imageSize)) });
    }
    const volumes = engine.volumes.list().map((v) => {
      let size: number;
      try {
        size = directorySize(v.mountpoint);
      } catch {
        size = -1;
      }
      return { ...dockerVolume(v), UsageData: { Size: size, RefCount: v.usedBy.length } };
    });
    return json({ LayersSize: images.reduce((a, i) => a + i.Size, 0), Images: images, Containers: containers, Volumes: volumes, BuildCache: [] });
  });
}
