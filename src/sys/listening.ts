/** A listening server's descriptor: Node.js keeps it on its handle (no public API gives it); undefined when it has none. */
export function handleFd(server: { listening: boolean }): number | undefined {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return !server.listening || fd === undefined || fd < 0 ? undefined : fd;
}
