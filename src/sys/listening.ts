import type { Server, Socket } from 'node:net';

/** A listening server's descriptor: Node.js keeps it on its handle (no public API gives it); undefined when it has none. */
export function handleFd(server: { listening: boolean }): number | undefined {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return !server.listening || fd === undefined || fd < 0 ? undefined : fd;
}

/**
 * Listens on `at`, rejecting with the listen's error: a descriptor passed
 * at start (bound and listening already: berthd woken from its sleep,
 * src/api/activation.ts), a unix socket's path, or a TCP port and host.
 */
export function listenOn(server: Server, at: number | string | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (typeof at === 'number') server.listen({ fd: at }, done);
    else if (typeof at === 'string') server.listen(at, done);
    else server.listen(at.port, at.host, done);
  });
}

/**
 * Counts the connections `server` serves while they are open, those handed
 * to it by 'connection' events included (which Node.js's getConnections
 * leaves out): berthd sleeps only with none (src/api/sleep.ts).
 */
export function countConnections(server: Pick<Server, 'on'>): () => number {
  let open = 0;
  server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => open--);
  });
  return () => open;
}
