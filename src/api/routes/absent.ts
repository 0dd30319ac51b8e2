/**
 * The answers of a daemon without swarm mode or plugins, in dockerd's
 * words, so clients that probe for them at set-up go on: `GET /plugins` is
 * an empty list, a plugin by name is not found, the swarm's objects
 * (swarm, nodes, services, tasks, secrets, configs) answer 503 "not a
 * swarm manager" as dockerd does when it is not in a swarm. Making one
 * (`swarm init`, `swarm join`) is refused: berth has no swarm mode.
 */
import { notFound, unavailable, unsupported } from '../../errors.ts';
import type { Router } from '../router.ts';
import { json } from '../reply.ts';

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

export function absentRoutes(router: Router): void {
  router.get('/plugins', () => json([]));
  router.get('/plugins/{name*}', (req) => {
    throw notFound('api_route_not_found', `plugin "${req.params['name']!.replace(/\/json$/, '')}" not found`);
  });

  const notManager = (): never => {
    throw unavailable('api_swarm_inactive', NOT_MANAGER);
  };
  for (const kind of ['swarm', 'nodes', 'services', 'tasks', 'secrets', 'configs']) {
    router.get(`/${kind}`, notManager);
    if (kind !== 'swarm') {
      router.get(`/${kind}/{id}`, notManager);
      router.post(`/${kind}/create`, notManager);
      router.delete(`/${kind}/{id}`, notManager);
      router.post(`/${kind}/{id}/update`, notManager);
    }
  }
  router.get('/swarm/unlockkey', notManager);
  router.post('/swarm/update', notManager);
  router.post('/swarm/leave', () => {
    throw unavailable('api_swarm_inactive', 'This node is not part of a swarm');
  });
  for (const verb of ['init', 'join', 'unlock']) {
    router.post(`/swarm/${verb}`, () => {
      throw unsupported('api_swarm_unsupported', `swarm ${verb}: berth has no swarm mode`);
    });
  }
}
