/**
 * Docker's exec routes over the engine's exec sessions (src/engine/exec):
 * `POST /containers/{id}/exec` (ExecConfig → {Id}), `POST /exec/{id}/start`
 * (hijacked: the process's output framed as docker's, input to its stdin;
 * or detached), `POST /exec/{id}/resize`, `GET /exec/{id}/json`.
 */
import type { Duplex } from 'node:stream';
import type { Engine } from '../../engine/engine.ts';
import type { ExecSessions } from '../../engine/exec/sessions.ts';
import { describeError, invalidArgument } from '../../errors.ts';
import type { Router } from '../router.ts';
import { encodeFrame } from '../../engine/monitor/frames.ts';
import { hijack, json, MULTIPLEXED_STREAM, noContent, RAW_STREAM } from '../reply.ts';
import { isObject } from '../../json-object.ts';


/** Both ways until the process's side ends: its output to the client, the client's input to it. */
export function splice(conn: Duplex, socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const end = (): void => {
      socket.destroy();
      resolve();
    };
    // A process without output that ended before the monitor's start was reported (`touch` under load): its
    // socket read the EOF and ended, unread, before these listeners came; there is nothing left to pass on.
    if (socket.readableEnded || socket.destroyed) return end();
    socket.on('data', (b: Buffer) => conn.write(b));
    // Handed over paused (spawn.ts): nothing flows until it is resumed.
    socket.resume();
    // The process's output is over at the end of the socket's reading side (a socket also closes then).
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
    conn.on('data', (b: Buffer) => socket.write(b));
    // Paused when exec start's body came after its head (body.ts took it off): a 'data' listener alone does not restart it.
    conn.resume();
    conn.on('end', () => socket.end());
    conn.on('close', end);
    conn.on('error', end);
  });
}

/** dockerd puts the container's attributes (name, image, labels) on each exec event; none once it is gone. */
function containerAttributes(engine: Engine, id: string): Record<string, string> {
  try {
    return engine.attributes(engine.find(id));
  } catch {
    return {};
  }
}

export function execRoutes(router: Router, engine: Engine, sessions: ExecSessions): void {
  router.post('/containers/{id}/exec', async (req) => {
    const container = engine.execContainer(req.params['id']!);
    const id = sessions.createExec(container, await req.json());
    engine.events.publish('container', 'exec_create', container.id, { ...containerAttributes(engine, container.id), execID: id });
    return json({ Id: id }, 201);
  });

  router.post(
    '/exec/{id}/start',
    async (req) => {
      const body = (await req.json()) ?? {};
      if (!isObject(body)) throw invalidArgument('api_body_invalid', 'exec start: the body must be a JSON object');
      const detach = body['Detach'] === true;
      const id = req.params['id']!;
      const inspect = sessions.inspectExec(id);
      if (detach) {
        await sessions.startExec(id, { detach: true, consoleSize: body['ConsoleSize'] });
        return noContent(200);
      }
      return hijack(inspect.ProcessConfig.tty ? RAW_STREAM : MULTIPLEXED_STREAM, async (conn) => {
        let started: Awaited<ReturnType<ExecSessions['startExec']>>;
        try {
          started = await sessions.startExec(id, { detach: false, consoleSize: body['ConsoleSize'] });
        } catch (err) {
          // The head is out, so no error status: dockerd writes the failure into the stream, where its client shows it.
          const text = `${describeError(err)}\r\n`;
          conn.write(inspect.ProcessConfig.tty ? text : encodeFrame(1, text));
          return;
        }
        engine.events.publish('container', 'exec_start', inspect.ContainerID, { ...containerAttributes(engine, inspect.ContainerID), execID: id });
        if (started.socket !== undefined) await splice(conn, started.socket);
        const code = await started.exited;
        engine.events.publish('container', 'exec_die', inspect.ContainerID, { ...containerAttributes(engine, inspect.ContainerID), execID: id, exitCode: String(code ?? -1) });
      });
    },
    { hijack: true },
  );

  router.post('/exec/{id}/resize', (req) => {
    const h = req.query.int('h');
    const w = req.query.int('w');
    if (h === undefined || w === undefined || h <= 0 || w <= 0) throw invalidArgument('api_query_invalid', 'exec resize: h and w must be positive integers');
    sessions.resizeExec(req.params['id']!, h, w);
    return noContent(200);
  });

  router.get('/exec/{id}/json', (req) => json(sessions.inspectExec(req.params['id']!)));
}
