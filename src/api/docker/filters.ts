/**
 * Docker's container filters (`ps --filter`, `container prune --filter`),
 * applied to the engine's views: id (prefix), name (regular expression, as
 * docker), label (key or key=value; `label!` for prune), status, exited
 * (exit code), ancestor (image reference or ID), before/since (another
 * container), volume (name or mount target), until (prune: created
 * before). Within one key the values are OR'ed, across keys AND'ed.
 */
import type { ContainerView } from '../../engine/engine.ts';
import type { ContainerRecord } from '../../engine/store/containers.ts';
import { labelMatches, untilMs } from '../../docker-filters.ts';
import { invalidArgument } from '../../errors.ts';
import { dockerStatus } from './containers.ts';

export type Filters = ReadonlyMap<string, readonly string[]>;

const KEYS = new Set(['id', 'name', 'label', 'label!', 'status', 'exited', 'ancestor', 'before', 'since', 'volume', 'until', 'health', 'network', 'is-task']);
const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

export function matchContainer(v: ContainerView, filters: Filters, find: (ref: string) => ContainerRecord, health?: string): boolean {
  const r = v.record;
  for (const [key, values] of filters) {
    if (!KEYS.has(key)) throw invalidArgument('api_filters_invalid', `filter "${key}": not a container filter`);
    if (values.length === 0) continue;
    const any = (test: (value: string) => boolean): boolean => values.some(test);
    let ok: boolean;
    switch (key) {
      case 'id':
        ok = any((x) => r.id.startsWith(x));
        break;
      case 'name':
        ok = any((x) => {
          try {
            return new RegExp(x.replace(/^\//, '')).test(r.name);
          } catch {
            throw invalidArgument('api_filters_invalid', `filter name="${x}": not a regular expression`);
          }
        });
        break;
      case 'label':
        ok = values.every((x) => labelMatches(r.labels, x));
        break;
      case 'label!':
        ok = !values.some((x) => labelMatches(r.labels, x));
        break;
      case 'status':
        for (const x of values) if (!STATUSES.has(x)) throw invalidArgument('api_filters_invalid', `filter status="${x}": want one of ${[...STATUSES].join(', ')}`);
        ok = any((x) => x === dockerStatus(v));
        break;
      case 'exited':
        ok = r.state === 'exited' && any((x) => Number(x) === r.exitCode);
        break;
      case 'ancestor':
        ok = any((x) => x === r.imageRef || r.imageId === x || r.imageId.startsWith(`sha256:${x}`) || r.imageRef === `${x}:latest`);
        break;
      case 'before':
        ok = any((x) => r.createdAt < find(x).createdAt);
        break;
      case 'since':
        ok = any((x) => r.createdAt > find(x).createdAt);
        break;
      case 'volume':
        ok = any((x) => Object.values(v.options.volumes).includes(x) || x in v.options.volumes || v.options.run.mounts.some((m) => m.target === x || (m.type === 'bind' && m.source === x)));
        break;
      case 'until':
        ok = any((x) => Date.parse(r.createdAt) < untilMs(x));
        break;
      case 'health':
        ok = any((x) => x === (health ?? 'none'));
        break;
      case 'network':
        ok = any((x) => x === v.options.run.network);
        break;
      default:
        ok = true;
    }
    if (!ok) return false;
  }
  return true;
}
