/**
 * `GET /events` (Docker's event stream, with since/until and filters) and
 * `GET /system/df` (disk use of images, containers and volumes).
 */
import type { ContainerView, Engine } from '../../engine/engine.ts';
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

/** dockerd's event filters; those of swarm's objects are taken and match nothing here (berth has no swarm). */
const EVENT_FILTERS = new Set(['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume']);
const SWARM_FILTERS = new Set(['config', 'node', 'plugin', 'secret', 'service']);

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
      : key === 'daemon' ? false // berthd publishes no daemon events
      : key === 'scope' ? values.includes('local')
      : SWARM_FILTERS.has(key) ? false
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

/** SizeRw (the writable layer) and SizeRootFs (it and the image), as `ps -s` and `system df` show them. */
export async function sizesOf(engine: Engine, v: ContainerView): Promise<{ SizeRw: number; SizeRootFs: number }> {
  const upper = await upperDir(engine.paths.root, v.record.id);
  const imageSize = engine.images.get(v.record.imageId)?.size ?? 0;
  return upper === undefined ? { SizeRw: 0, SizeRootFs: imageSize } : containerSizes(upper, imageSize);
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

  router.get('/system/df', async () => {
    const images = engine.images.list().map((img) => {
      const users = engine.containers.list().filter((c) => c.imageId === img.id).length;
      return { Id: img.id, ParentId: '', RepoTags: img.names, RepoDigests: [], Created: Math.floor(Date.parse(img.created ?? '') / 1000) || 0, Size: img.size, SharedSize: -1, VirtualSize: img.size, Labels: {}, Containers: users };
    });
    const containers = [];
    for (const v of engine.list()) containers.push({ ...summarizeContainer(v), ...(await sizesOf(engine, v)) });
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
