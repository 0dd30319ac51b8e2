/**
 * What the functions gateway logs through: berthd's structured logger fits
 * it (src/api/log.ts), handed in by the daemon, so this room imports
 * nothing of the API's (docs/architecture.md: faas and api sit side by side).
 */
export interface FaasLogger {
  debug(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  info(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(msg: string, fields?: Readonly<Record<string, unknown>>): void;
}
