/**
 * berthd's engine: opens the engine on the daemon's roots, recovers what a
 * crash left (re-adopting running containers before the socket opens, so
 * no request sees a half state), registers the container, volume, event
 * and disk routes, and fills `/info`'s counts and the metrics.
 */
import type { Engine } from '../engine/engine.ts';
import { internal } from '../errors.ts';
import type { ApiServer } from './server.ts';
import type { Service } from './service.ts';
import { containerRoutes } from './routes/containers.ts';
import { execRoutes } from './routes/exec.ts';
import { networkRoutes } from './routes/networks.ts';
import { opsRoutes } from './routes/ops.ts';
import { systemRoutes } from './routes/system.ts';
import { volumeRoutes } from './routes/volumes.ts';

/** The daemon's network settings (berthd's flags). */
export interface EngineNetworkOptions {
  /** Sandboxes kept ready on the default network (--network-pool; default 2, 0 disables). */
  pool?: number | undefined;
  /** The default network's bridge and address, when first made (--bridge, --bip). */
  bridge?: string | undefined;
  bip?: string | undefined;
  /** The embedded resolver's port (53). */
  dnsPort?: number | undefined;
  /** The pool's sandboxes a sleeping berthd left are kept (it woke; src/api/sleep.ts). */
  keepPooled?: boolean | undefined;
}

export const DEFAULT_NETWORK_POOL = 2;

export async function startEngine(server: ApiServer, service: Service, net: EngineNetworkOptions = {}): Promise<Engine> {
  const { Engine } = await import('../engine/engine.ts');
  const { pullImage } = await import('../image/copy/pull.ts');
  const { NetworkLayer } = await import('../network/layer.ts');
  let layer: InstanceType<typeof NetworkLayer> | undefined;
  const engine = await Engine.open({
    root: service.paths.root,
    runRoot: service.paths.runRoot,
    network: (db, paths) =>
      (layer = new NetworkLayer(db, {
        ...paths,
        poolSize: net.pool ?? DEFAULT_NETWORK_POOL,
        log: server.logger,
        ...(net.bridge === undefined ? {} : { defaultBridge: net.bridge }),
        ...(net.bip === undefined ? {} : { defaultBip: net.bip }),
        ...(net.dnsPort === undefined ? {} : { dnsPort: net.dnsPort }),
        ...(net.keepPooled === true ? { keepPooled: true } : {}),
      })),
    pull: async (ref) => {
      const images = engine.images;
      const { image } = await pullImage(images, images.parseName(ref));
      return image;
    },
  });
  const report = await engine.recover();
  server.logger.info('engine recovered', {
    adopted: report.adopted.length,
    exited: report.exited.length,
    cleaned: report.cleaned.length,
    restarted: report.restarted.length,
  });
  const { ExecSessions } = await import('../engine/exec/sessions.ts');
  const sessions = new ExecSessions({ runRoot: service.paths.runRoot });
  // What a previous daemon's execs left, once their monitors are gone.
  const swept = sessions.sweepLeftovers();
  if (swept.length > 0) server.logger.info('exec leftovers removed', { count: swept.length });
  engine.events.subscribe((e) => {
    if (e.Type === 'container' && e.Action === 'die') void sessions.containerStopped(e.Actor.ID);
    if (e.Type === 'container' && e.Action === 'destroy') sessions.forgetContainer(e.Actor.ID);
  });
  const { HealthMonitor } = await import('../engine/health/monitor.ts');
  const { HealthStore } = await import('../engine/store/health.ts');
  const health = new HealthMonitor({
    store: new HealthStore(engine.containers.db),
    execs: sessions,
    onEvent: (id, action) => {
      const r = engine.containers.get(id);
      engine.events.publish('container', action, id, r === undefined ? {} : engine.attributes(r));
    },
    onError: (id, err) => server.logger.warn('health check not recorded', { id, err }),
  });
  const watchHealth = (id: string): void => {
    const v = engine.view(id);
    void health.start({ container: engine.execContainer(id), healthcheck: v.options.health, startedAt: new Date(v.record.startedAt ?? Date.now()) });
  };
  engine.events.subscribe((e) => {
    if (e.Type !== 'container') return;
    if (e.Action === 'start') watchHealth(e.Actor.ID);
    if (e.Action === 'die' || e.Action === 'destroy') void health.stop(e.Actor.ID);
  });
  // The containers re-adopted at recovery are checked again from now on.
  for (const r of engine.containers.list()) if (r.state === 'running') watchHealth(r.id);
  engine.onClose(() => {
    void health.close();
    sessions.close();
  });
  containerRoutes(server.router, engine, { execIds: (id) => sessions.execIdsOf(id), health: (id) => health.state(id), logger: server.logger });
  execRoutes(server.router, engine, sessions);
  opsRoutes(server.router, engine);
  volumeRoutes(server.router, engine);
  if (layer === undefined) throw internal('engine_network_missing', 'berthd: the engine was opened without its network layer');
  // Listed from the start, as dockerd lists its bridge network.
  layer.defaultNetwork();
  // A container's --dns on a user network: the embedded resolver forwards its queries there (docker's behaviour).
  layer.containerDns = (id) => engine.containers.get(id) === undefined ? [] : (engine.view(id).options.run.dns ?? []);
  networkRoutes(server.router, { networks: layer.networks, events: engine.events, connector: engine });
  systemRoutes(server.router, engine);
  (await import('./routes/images.ts')).imageRoutes(server, engine);
  const byState = (): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const r of engine.containers.list()) counts[r.state] = (counts[r.state] ?? 0) + 1;
    return counts;
  };
  service.hooks.counts = () => {
    const c = byState();
    const running = c['running'] ?? 0;
    const paused = c['paused'] ?? 0;
    const all = Object.values(c).reduce((a, b) => a + b, 0) - (c['creating'] ?? 0);
    return { Containers: all, ContainersRunning: running, ContainersPaused: paused, ContainersStopped: all - running - paused, Images: engine.images.list().length };
  };
  server.metrics.collect('berth_containers_running', 'Containers running', () => byState()['running'] ?? 0);
  server.metrics.collect('berth_containers', 'Containers known to the engine', () => engine.containers.list().length);
  engine.events.subscribe((e) => server.logger.debug('event', { type: e.Type, action: e.Action, id: e.Actor.ID }));
  return engine;
}
