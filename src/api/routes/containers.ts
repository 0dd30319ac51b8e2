/**
 * The container routes of the Docker Engine API over the engine library,
 * and berth's own create (`POST /berth/containers/create`, whose body is
 * berth's RunOptions, as podman has `/libpod/...`). Each handler checks its
 * input, calls the engine, and answers in docker's shape and status codes
 * (204 done, 304 nothing to do, 404 no such container, 409 conflict).
 */
import type { Logger } from '../log.ts';
import { checkNetworkOptions } from '../../engine/spec/network-options.ts';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Engine, CreateRequest, WaitCondition } from '../../engine/engine.ts';
import { containerLogs } from '../../engine/logs.ts';
import { encodeFrame, FrameDecoder, StreamType } from '../../engine/monitor/frames.ts';
import type { RunOptions } from '../../engine/spec/options.ts';
import { failedPrecondition, invalidArgument, isBerthError, notFound } from '../../errors.ts';
import { parseSignal } from '../../runtime/lifecycle/kill.ts';
import { inspectContainer, summarizeContainer } from '../docker/containers.ts';
import { createRequestOf, dockerCreateFlags } from '../docker/create.ts';
import { fieldUnsupported } from '../docker/json-fields.ts';
import { goArch } from '../system-routes.ts';
import { sizesOf } from './system.ts';
import { matchContainer } from '../docker/filters.ts';
import type { Router } from '../router.ts';
import { hijack, json, MULTIPLEXED_STREAM, noContent, RAW_STREAM, stream, type ApiRequest } from '../reply.ts';
import { isObject } from '../../json-object.ts';


/** berth's create body: `{ image, args, options, tty, openStdin, stdinOnce, seccompProfileText }`; options were parsed by the client from its flags and are re-checked by the spec generator. */
function createRequest(body: unknown): CreateRequest {
  if (!isObject(body)) throw invalidArgument('api_body_invalid', 'create: the body must be a JSON object');
  const image = body['image'];
  if (typeof image !== 'string' || image === '') throw invalidArgument('api_body_invalid', 'create: field "image" must name an image');
  const args = body['args'] ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw invalidArgument('api_body_invalid', 'create: field "args" must be a list of strings');
  const options = body['options'];
  if (!isObject(options)) throw invalidArgument('api_body_invalid', 'create: field "options" must be an object');
  const flag = (name: string): boolean => {
    const v = body[name];
    if (v !== undefined && typeof v !== 'boolean') throw invalidArgument('api_body_invalid', `create: field "${name}" must be true or false`);
    return v === true;
  };
  const seccomp = body['seccompProfileText'];
  if (seccomp !== undefined && typeof seccomp !== 'string') throw invalidArgument('api_body_invalid', 'create: field "seccompProfileText" must be a string');
  return {
    image,
    args,
    options: checkRunOptions(options),
    tty: flag('tty'),
    openStdin: flag('openStdin'),
    stdinOnce: flag('stdinOnce'),
    ...(seccomp === undefined ? {} : { seccompProfileText: seccomp }),
  };
}

/** The shape of RunOptions, field by field; values are checked again where they are used. */
function checkRunOptions(o: Record<string, unknown>): RunOptions {
  const need = (field: string, ok: boolean): void => {
    if (!ok) throw invalidArgument('api_body_invalid', `create: options.${field} is missing or malformed`);
  };
  const strs = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');
  need('env', strs(o['env']));
  need('mounts', Array.isArray(o['mounts']) && o['mounts'].every(isObject));
  need('readOnly', typeof o['readOnly'] === 'boolean');
  need('security', isObject(o['security']));
  need('resources', isObject(o['resources']));
  need('rlimits', Array.isArray(o['rlimits']));
  need('restart', isObject(o['restart']) && typeof o['restart']['name'] === 'string');
  need('autoRemove', typeof o['autoRemove'] === 'boolean');
  need('init', typeof o['init'] === 'boolean');
  need('labels', isObject(o['labels']) && Object.values(o['labels']).every((v) => typeof v === 'string'));
  need('pull', o['pull'] === 'missing' || o['pull'] === 'always' || o['pull'] === 'never');
  for (const f of ['name', 'workdir', 'user', 'hostname']) need(f, o[f] === undefined || typeof o[f] === 'string');
  need('entrypoint', o['entrypoint'] === undefined || strs(o['entrypoint']));
  const network = checkNetworkOptions(o, (field) => {
    throw invalidArgument('api_body_invalid', `create: options.${field} is missing or malformed`);
  });
  return { ...(o as unknown as RunOptions), ...network };
}

/** `?platform=` of create: the host's own, or none; berth runs no other. */
function checkPlatform(raw: string | undefined): void {
  if (raw === undefined || raw === '') return;
  const [os, arch] = raw.split('/');
  if (os !== 'linux' || (arch !== undefined && arch !== goArch())) throw fieldUnsupported(`query parameter "platform" "${raw}"`, `berth runs linux/${goArch()} only`);
}

/** dockerd's words for an image it does not have, which the docker CLI answers by pulling it. */
function noSuchImage(ref: string): Error {
  const tagged = /[:@]/.test(ref.slice(ref.lastIndexOf('/') + 1)) ? ref : `${ref}:latest`;
  return notFound('image_not_found', `No such image: ${tagged}`);
}

const CONDITIONS = new Set<WaitCondition>(['not-running', 'next-exit', 'removed']);

/** Docker's `since`/`until` for logs: Unix seconds with an optional fraction. */
function unixNanos(req: ApiRequest, name: string): bigint | undefined {
  const raw = req.query.str(name);
  if (raw === undefined || raw === '' || raw === '0') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(raw);
  if (m === null) throw invalidArgument('api_query_invalid', `query parameter ${name}="${raw}": not Unix seconds`);
  return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

function signalParam(req: ApiRequest): number | undefined {
  const raw = req.query.str('signal');
  return raw === undefined || raw === '' ? undefined : parseSignal(raw);
}

function timeoutParam(req: ApiRequest): number | undefined {
  return req.query.int('t') ?? req.query.int('timeout');
}

/** Pipes a client's hijacked connection to the monitor's attach socket: output as the monitor frames it, input when asked for. */
function pipeAttach(conn: Duplex, runDir: string, o: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }, onConnected?: () => void): Promise<void> {
  return new Promise((resolve) => {
    const monitor = connect(join(runDir, 'attach'));
    // Connected: the monitor accepts it before it reads the container's first output (its poll loop's order).
    monitor.once('connect', () => onConnected?.());
    const frames = new FrameDecoder();
    const end = (): void => {
      monitor.destroy();
      onConnected?.();
      resolve();
    };
    monitor.on('data', (b: Buffer) => {
      if (o.tty) {
        if (o.stdout) conn.write(b);
        return;
      }
      for (const f of frames.push(b)) if (f.stream === StreamType.stderr ? o.stderr : o.stdout) conn.write(encodeFrame(f.stream, f.payload));
    });
    monitor.on('close', end);
    monitor.on('error', end);
    if (o.stdin) {
      conn.on('data', (b: Buffer) => monitor.write(b));
      // Paused when the request's body came after its head (body.ts took it off): a 'data' listener alone does not restart it.
      conn.resume();
      // The client closed its side (stdin at EOF): the container's stdin closes too. A client that
      // closed before the container started has had its 'end' emitted already (a socket reads its EOF at once).
      if (conn.readableEnded) monitor.end();
      else conn.on('end', () => monitor.end());
    }
    conn.on('close', end);
    conn.on('error', end);
  });
}

export function containerRoutes(
  router: Router,
  engine: Engine,
  helpers: { health?: (id: string) => unknown; execIds?: (id: string) => string[]; logger?: Pick<Logger, 'debug'> } = {},
): void {
  router.post('/berth/containers/create', async (req) => {
    const body = createRequest(await req.json());
    const name = req.query.str('name');
    if (name !== undefined && name !== '') body.options = { ...body.options, name: name.replace(/^\//, '') };
    const c = await engine.create(body);
    return json({ Id: c.id, Warnings: [] }, 201);
  });

  router.post('/containers/create', async (req) => {
    checkPlatform(req.query.str('platform'));
    const flags = dockerCreateFlags(await req.json(), { name: req.query.str('name') });
    const img = flags.imageCmd ? engine.images.tryResolve(flags.image) : undefined;
    if (img !== undefined) flags.args = (await engine.images.readConfig(img)).config?.Cmd ?? [];
    const body = createRequestOf(flags);
    try {
      const c = await engine.create(body);
      return json({ Id: c.id, Warnings: [] }, 201);
    } catch (err) {
      throw isBerthError(err, 'image_not_found') ? noSuchImage(body.image) : err;
    }
  });

  router.get('/containers/json', async (req) => {
    const all = req.query.bool('all');
    const limit = req.query.int('limit', -1);
    const filters = req.query.filters();
    let views = engine.list().filter((v) => all || filters.has('status') || v.record.state === 'running' || v.record.state === 'paused' || v.restarting);
    views = views.filter((v) => matchContainer(v, filters, (ref) => engine.find(ref), healthStatus(helpers.health?.(v.record.id))));
    views.sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt));
    if (limit > 0) views = views.slice(0, limit);
    const sized = req.query.bool('size');
    const rows = [];
    for (const v of views) rows.push({ ...summarizeContainer(v, healthStatus(helpers.health?.(v.record.id))), ...(sized ? await sizesOf(engine, v) : {}) });
    return json(rows);
  });

  router.get('/containers/{id}/json', async (req) => {
    const v = engine.view(req.params['id']!);
    const inspected = inspectContainer(v, { logLimits: engine.logLimitsOf(v), health: helpers.health?.(v.record.id), ...(helpers.execIds ? { execIds: helpers.execIds(v.record.id) } : {}) });
    // `docker inspect -s`: the sizes ps -s shows.
    return json(req.query.bool('size') ? { ...inspected, ...(await sizesOf(engine, v)) } : inspected);
  });

  router.post('/containers/{id}/start', async (req) => {
    const before = engine.find(req.params['id']!);
    if (before.state === 'running' || before.state === 'paused') return noContent(304);
    // Where a start's time goes, for the debug log: each phase's end in ms since the request.
    const t0 = performance.now();
    const phases: Record<string, number> = {};
    await engine.start(before.id, (name) => (phases[name] = Math.round((performance.now() - t0) * 10) / 10));
    helpers.logger?.debug('container started', { id: before.id, ms: phases });
    return noContent();
  });

  router.post('/containers/{id}/stop', async (req) => {
    const before = engine.find(req.params['id']!);
    const t = timeoutParam(req);
    const signal = signalParam(req);
    await engine.stop(before.id, { ...(t === undefined ? {} : { timeout: t }), ...(signal === undefined ? {} : { signal }) });
    return noContent(before.state === 'running' || before.state === 'paused' ? 204 : 304);
  });

  router.post('/containers/{id}/restart', async (req) => {
    const t = timeoutParam(req);
    const signal = signalParam(req);
    await engine.restart(req.params['id']!, { ...(t === undefined ? {} : { timeout: t }), ...(signal === undefined ? {} : { signal }) });
    return noContent();
  });

  router.post('/containers/{id}/kill', async (req) => {
    await engine.kill(req.params['id']!, signalParam(req) ?? 9);
    return noContent();
  });

  router.post('/containers/{id}/pause', async (req) => {
    await engine.pause(req.params['id']!);
    return noContent();
  });

  router.post('/containers/{id}/unpause', async (req) => {
    await engine.unpause(req.params['id']!);
    return noContent();
  });

  router.post('/containers/{id}/rename', (req) => {
    const name = req.query.str('name');
    if (name === undefined || name === '') throw invalidArgument('api_query_invalid', 'rename: query parameter "name" is required');
    engine.rename(req.params['id']!, name.replace(/^\//, ''));
    return noContent();
  });

  router.post('/containers/{id}/wait', (req) => {
    const raw = req.query.str('condition') ?? 'not-running';
    if (!CONDITIONS.has(raw as WaitCondition)) throw invalidArgument('api_query_invalid', `wait: condition "${raw}": want not-running, next-exit or removed`);
    const id = engine.find(req.params['id']!).id;
    const waiting = engine.wait(id, raw as WaitCondition);
    // As dockerd: the head goes out at once (the client knows the wait began), the body when the container stops.
    const aborted = new Promise<undefined>((resolve) => req.signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    async function* body(): AsyncGenerator<string> {
      yield '';
      // The client left, or the daemon stops: the wait ends without an answer (its container keeps running).
      const r = await Promise.race([waiting, aborted]);
      if (r === undefined) return;
      yield JSON.stringify({ StatusCode: r.code, ...(r.error === undefined ? {} : { Error: { Message: r.error } }) }) + '\n';
    }
    return stream(body());
  });

  router.delete('/containers/{id}', async (req) => {
    await engine.remove(req.params['id']!, { force: req.query.bool('force'), volumes: req.query.bool('v') });
    return noContent();
  });

  router.get('/containers/{id}/logs', (req) => {
    const v = engine.view(req.params['id']!);
    const stdout = req.query.bool('stdout');
    const stderr = req.query.bool('stderr');
    if (!stdout && !stderr) throw invalidArgument('api_query_invalid', 'logs: choose at least one of stdout and stderr');
    const tail = req.query.str('tail');
    const since = unixNanos(req, 'since');
    const until = unixNanos(req, 'until');
    const id = v.record.id;
    const source = containerLogs(
      v,
      {
        stdout,
        stderr,
        timestamps: req.query.bool('timestamps'),
        follow: req.query.bool('follow'),
        signal: req.signal,
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
        ...(tail === undefined || tail === 'all' ? {} : { tail: Number.parseInt(tail, 10) }),
      },
      () => {
        const r = engine.containers.get(id);
        return r !== undefined && (r.state === 'running' || r.state === 'paused');
      },
      engine.logLimitsOf(v).maxFiles,
    );
    return stream(source, v.options.tty ? RAW_STREAM : MULTIPLEXED_STREAM);
  });

  router.post(
    '/containers/{id}/attach',
    (req) => {
      const v = engine.view(req.params['id']!);
      const o = { stdin: req.query.bool('stdin'), stdout: req.query.bool('stdout'), stderr: req.query.bool('stderr'), tty: v.options.tty };
      // As dockerd: logs=1 replays the log first; without stream=1 that is all.
      const replay = req.query.bool('logs');
      const streaming = req.query.bool('stream');
      // dockerd's event for every attachment (docker run's included), before the stream begins.
      engine.events.publish('container', 'attach', v.record.id, engine.attributes(v.record));
      return hijack(v.options.tty ? RAW_STREAM : MULTIPLEXED_STREAM, async (conn) => {
        if (replay && (o.stdout || o.stderr)) {
          const past = containerLogs(v, { stdout: o.stdout, stderr: o.stderr, timestamps: false, follow: false, signal: req.signal }, () => false, engine.logLimitsOf(v).maxFiles);
          for await (const chunk of past) conn.write(chunk);
        }
        if (!streaming) return;
        const state = engine.find(v.record.id).state;
        if (state === 'running' || state === 'paused') return pipeAttach(conn, v.paths.runDir, o);
        // Not started yet: attach once its monitor is up, before its process runs, so no output is missed.
        let piping: Promise<void> | undefined;
        const ready = new Promise<void>((resolve) => {
          // The container starts only once this attachment is connected: its first output is not missed.
          const onStart = (runDir: string): Promise<void> =>
            new Promise<void>((connected) => {
              piping = pipeAttach(conn, runDir, o, () => connected());
            }).then(() => resolve());
          engine.attachBeforeStart(v.record.id, onStart);
          conn.once('close', () => {
            engine.cancelAttachBeforeStart(v.record.id, onStart);
            resolve();
          });
        });
        await ready;
        await piping;
      });
    },
    { hijack: true },
  );

  router.post('/containers/{id}/resize', async (req) => {
    const v = engine.view(req.params['id']!);
    const h = req.query.int('h');
    const w = req.query.int('w');
    if (h === undefined || w === undefined || h <= 0 || w <= 0) throw invalidArgument('api_query_invalid', 'resize: h and w must be positive integers');
    // As dockerd: 409 when nothing runs (its monitor's control fifo is gone; writing would make a plain file there).
    if (v.record.state !== 'running' && v.record.state !== 'paused') throw failedPrecondition('container_not_running', `container "${v.record.name}": is not running`);
    const { resize } = await import('../../engine/monitor/attach.ts');
    resize(v.paths.runDir, h, w);
    return noContent(200);
  });

  router.post('/containers/prune', async (req) => {
    const filters = req.query.filters();
    const result = await engine.prune((v) => matchContainer(v, filters, (ref) => engine.find(ref)));
    return json({ ContainersDeleted: result.removed, SpaceReclaimed: result.spaceReclaimed });
  });
}

function healthStatus(h: unknown): string | undefined {
  return isObject(h) && typeof h['Status'] === 'string' ? h['Status'] : undefined;
}
