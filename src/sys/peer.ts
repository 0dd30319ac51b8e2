/**
 * SO_PEERCRED, which Node.js does not offer: the process, user and group of
 * the other end of a unix socket, as the kernel recorded them at connect(2).
 */
import type { Socket } from 'node:net';
import { c, lastErrno } from './libc.ts';
import { SystemError } from './error.ts';

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** The credentials of a connected unix socket's peer (node:net keeps the descriptor on its handle). */
export function peerCredentials(socket: Socket): PeerCredentials {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new SystemError(9, 'getsockopt(SO_PEERCRED)');
  const value = new Uint8Array(12);
  const length = new Uint32Array([12]);
  if (c.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, value, length) !== 0) throw new SystemError(lastErrno(), 'getsockopt(SO_PEERCRED)');
  const view = new DataView(value.buffer);
  return { pid: view.getInt32(0, true), uid: view.getUint32(4, true), gid: view.getUint32(8, true) };
}
