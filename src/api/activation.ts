/**
 * Descriptors berthd was started with, as systemd's socket activation
 * passes them (sd_listen_fds(3)): LISTEN_PID names this process,
 * LISTEN_FDS counts descriptors from 3 on, LISTEN_FDNAMES names them
 * (colon-separated). berthd passes its own this way when it sleeps and
 * wakes (berth-idle, src/api/sleep.ts): `api` (the unix socket), `cli`,
 * `gateway`, `tcpN` (the N-th --api address, from 0), and `lock` (the run
 * root's lock file, still locked). A systemd socket unit gives `api`
 * (FileDescriptorName=api), or one unnamed socket, which is the API's.
 *
 * Read once, at start, and taken out of the environment so no child sees
 * them. What no part of the daemon takes is closed by `closeRest`.
 */
import { closeSync } from 'node:fs';

export const SD_LISTEN_FDS_START = 3;

export class Inherited {
  private readonly fds: Map<string, number>;

  constructor(fds: Map<string, number> = new Map()) {
    this.fds = fds;
  }

  /** Taken from the environment (LISTEN_* removed from it); empty when they are not this process's. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, pid = process.pid): Inherited {
    const count = env['LISTEN_FDS'];
    const forPid = env['LISTEN_PID'];
    const names = env['LISTEN_FDNAMES'];
    delete env['LISTEN_FDS'];
    delete env['LISTEN_PID'];
    delete env['LISTEN_FDNAMES'];
    const fds = new Map<string, number>();
    if (count === undefined || forPid !== String(pid) || !/^\d{1,3}$/.test(count)) return new Inherited(fds);
    const n = Number(count);
    const named = names?.split(':') ?? [];
    for (let i = 0; i < n; i++) {
      const name = named[i] ?? '';
      // One unnamed socket (systemd's default name is the unit's): the API's.
      fds.set(name === '' || name === 'unknown' || (n === 1 && !named.includes('api')) ? 'api' : name, SD_LISTEN_FDS_START + i);
    }
    return new Inherited(fds);
  }

  has(name: string): boolean {
    return this.fds.has(name);
  }

  /** The descriptor passed as `name`, now the caller's; undefined when none was. */
  take(name: string): number | undefined {
    const fd = this.fds.get(name);
    this.fds.delete(name);
    return fd;
  }

  /** Closes what nobody took (a gateway now off, an --api address no longer given); their names. */
  closeRest(): string[] {
    const names = [...this.fds.keys()];
    for (const fd of this.fds.values()) {
      try {
        closeSync(fd);
      } catch {
        // Not open: nothing to close.
      }
    }
    this.fds.clear();
    return names;
  }
}
