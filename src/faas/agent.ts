/**
 * The gateway's keep-alive agent for replicas, which can also be handed a
 * connection the readiness probe of an image's own server just made: its
 * next request to that address takes it instead of connecting again. A cold
 * start's first request so spares a TCP handshake through the replica's
 * veth and the server's own work for a connection (a static server that
 * forks per connection forks once, not twice). A spare connection is only
 * used while fresh (a second) and while nothing came on it: a server that
 * spoke or hung up first gets a new connection as before.
 */
import { Agent, type AgentOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** How long a probe's connection waits for the request it is kept for (by default). */
const SPARE_MS = 1_000;

interface Spare {
  socket: Socket;
  timer: NodeJS.Timeout;
}

export class ReplicaAgent extends Agent {
  private readonly spares = new Map<string, Spare>();
  private readonly spareMs: number;
  private readonly tcpKeepAlive: { on: boolean; ms: number };

  constructor(options: AgentOptions & { spareMs?: number }) {
    super(options);
    this.spareMs = options.spareMs ?? SPARE_MS;
    this.tcpKeepAlive = { on: options.keepAlive === true, ms: options.keepAliveMsecs ?? 1000 };
  }

  /** Keeps `socket` (connected to host:port, nothing read or written) for the next request there. */
  offer(host: string, port: number, socket: Socket): void {
    const key = `${host}:${port}`;
    this.take(key)?.destroy();
    const drop = (): void => {
      if (this.spares.get(key)?.socket === socket) this.take(key);
      socket.destroy();
    };
    // Anything from the server before the request (data, its end, an error) makes the connection unfit.
    socket.once('data', drop).once('end', drop).once('error', drop).once('close', drop);
    const timer = setTimeout(drop, this.spareMs);
    timer.unref();
    this.spares.set(key, { socket, timer });
  }

  private take(key: string): Socket | undefined {
    const s = this.spares.get(key);
    if (s === undefined) return undefined;
    this.spares.delete(key);
    clearTimeout(s.timer);
    s.socket.removeAllListeners('data').removeAllListeners('end').removeAllListeners('error').removeAllListeners('close');
    return s.socket;
  }

  override createConnection(options: { host?: string | null; port?: number | string | null }, callback?: (err: Error | null, socket: Duplex) => void): Duplex | null | undefined {
    const spare = this.take(`${options.host ?? ''}:${String(options.port ?? '')}`);
    if (spare !== undefined && !spare.destroyed && spare.readable && spare.writable) {
      // As the agent's own connections are made (http.request's noDelay, the agent's keepAlive): a body written after
      // its head must not wait for the head's ACK.
      spare.setNoDelay(true);
      spare.setKeepAlive(this.tcpKeepAlive.on, this.tcpKeepAlive.ms);
      return spare;
    }
    spare?.destroy();
    return super.createConnection(options, callback);
  }

  /** Spare connections not taken are closed. */
  override destroy(): void {
    for (const key of [...this.spares.keys()]) this.take(key)?.destroy();
    super.destroy();
  }
}
