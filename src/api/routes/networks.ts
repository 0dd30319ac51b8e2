/**
 * The network routes of the Docker Engine API (`/networks...`) over the
 * network store, in docker's shapes (src/api/docker/networks.ts), with
 * docker's events (type "network": create, destroy, connect, disconnect;
 * Actor.ID the network's ID). Connecting a container is the engine's work:
 * it comes in as a NetworkConnector; until one is given, connect and
 * disconnect answer 501 naming "network connect".
 */
import type { EngineEvents } from '../../engine/events.ts';
import { unsupported } from '../../errors.ts';
import type { NetworkStore } from '../../network/networks.ts';
import type { NetworkRecord } from '../../network/types.ts';
import { dockerNetwork, parseNetworkConnect, parseNetworkCreate, type EndpointRequest } from '../docker/networks.ts';
import { isObject } from '../../json-object.ts';
import { json, noContent } from '../reply.ts';
import type { Router } from '../router.ts';

/** The engine's side of `docker network connect|disconnect`; each returns the container's full ID. */
export interface NetworkConnector {
  connectNetwork(container: string, network: NetworkRecord, endpoint: EndpointRequest): Promise<string>;
  disconnectNetwork(container: string, network: NetworkRecord, force: boolean): Promise<string>;
}

export interface NetworkRouteDeps {
  networks: NetworkStore;
  events: EngineEvents;
  connector?: NetworkConnector | undefined;
}

export function networkRoutes(router: Router, deps: NetworkRouteDeps): void {
  const { networks, events } = deps;
  const publish = (action: string, n: NetworkRecord, extra: Record<string, string> = {}): void => {
    events.publish('network', action, n.id, { name: n.name, type: n.driver, ...extra });
  };
  const connector = (): NetworkConnector => {
    if (deps.connector === undefined) throw unsupported('network_connect_unavailable', 'network connect: not available yet (the engine does not attach containers to networks yet)');
    return deps.connector;
  };

  router.get('/networks', (req) => json(networks.list(req.query.filters()).map((n) => dockerNetwork(n))));

  // dockerd ignores verbose and scope for local networks.
  router.get('/networks/{id}', (req) => {
    const n = networks.get(req.params['id']!);
    return json(dockerNetwork(n, networks.endpoints(n)));
  });

  router.post('/networks/create', async (req) => {
    const n = networks.create(parseNetworkCreate(await req.json()));
    publish('create', n);
    return json({ Id: n.id, Warning: '' }, 201);
  });

  router.delete('/networks/{id}', async (req) => {
    publish('destroy', await networks.remove(req.params['id']!));
    return noContent();
  });

  router.post('/networks/prune', async (req) => {
    const removed = await networks.prune(req.query.filters());
    for (const n of removed) publish('destroy', n);
    return json({ NetworksDeleted: removed.map((n) => n.name) });
  });

  router.post('/networks/{id}/connect', async (req) => {
    const c = connector();
    const n = networks.get(req.params['id']!);
    const { container, endpoint } = parseNetworkConnect(await req.json());
    publish('connect', n, { container: await c.connectNetwork(container, n, endpoint) });
    return noContent(200);
  });

  router.post('/networks/{id}/disconnect', async (req) => {
    const c = connector();
    const n = networks.get(req.params['id']!);
    const body = await req.json();
    const { container } = parseNetworkConnect(isObject(body) ? { Container: body['Container'] } : body);
    const force = isObject(body) && body['Force'] === true;
    publish('disconnect', n, { container: await c.disconnectNetwork(container, n, force) });
    return noContent(200);
  });
}
