/**
 * The network routes of the Docker Engine API (`/networks...`) over the
 * network store, in docker's shapes (src/api/docker/networks.ts), with
 * docker's events (type "network", Actor.ID the network's ID: create and
 * destroy here). Connecting a container is the engine's work (it records
 * the request, attaches a running container and publishes connect and
 * disconnect): it comes in as a NetworkConnector; without one, connect and
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

/** The engine's side of `docker network connect|disconnect` (Engine.connectNetwork, disconnectNetwork); `network` is the resolved ID. */
export interface NetworkConnector {
  connectNetwork(container: string, network: string, endpoint: EndpointRequest): Promise<void>;
  disconnectNetwork(container: string, network: string, force: boolean): Promise<void>;
}

export interface NetworkRouteDeps {
  networks: NetworkStore;
  events: EngineEvents;
  connector?: NetworkConnector | undefined;
}

export function networkRoutes(router: Router, deps: NetworkRouteDeps): void {
  const { networks, events } = deps;
  const publish = (action: string, n: NetworkRecord): void => {
    events.publish('network', action, n.id, { name: n.name, type: n.driver });
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
    await c.connectNetwork(container, n.id, endpoint);
    return noContent(200);
  });

  router.post('/networks/{id}/disconnect', async (req) => {
    const c = connector();
    const n = networks.get(req.params['id']!);
    const body = await req.json();
    const { container } = parseNetworkConnect(isObject(body) ? { Container: body['Container'] } : body);
    const force = isObject(body) && body['Force'] === true;
    await c.disconnectNetwork(container, n.id, force);
    return noContent(200);
  });
}
