/** `/system/info`, `/system/namespaces`, `/healthz`: who answers, and that it does. */
import { machine } from 'node:os';
import { BERTH_VERSION } from '../../runtime/features.ts';
import { DEFAULT_NAMESPACE } from '../deployment.ts';
import { ok, route, text, type GatewayRoute } from './types.ts';

/** `namespaces` lists those holding a function or a secret (the default one is always there). */
export function systemRoutes(namespaces: () => readonly string[] = () => []): GatewayRoute[] {
  const version = { release: BERTH_VERSION, sha: '' };
  return [
    route('GET', '/system/info', () => ok({ provider: { provider: 'berth', orchestration: 'berth', version }, version, arch: machine() })),
    route('GET', '/system/namespaces', () => ok([...new Set([DEFAULT_NAMESPACE, ...namespaces()])].sort())),
    route('GET', '/healthz', () => text('OK')),
  ];
}
