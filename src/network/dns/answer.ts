/**
 * What the resolver answers from its own knowledge of a network, as
 * Docker's embedded DNS and aardvark-dns do: A for a container's name or
 * alias (TTL 600, the order rotated per query), NOERROR with no answer for
 * every other type of a known name (so a client asking AAAA first does not
 * wait), PTR for an address of the network. Everything else is not ours
 * and is forwarded (`undefined` here).
 */
import { RCode, RRType, aRecord, ptrRecord, reply, reverseIpv4, type Query } from './wire.ts';

/** The names of the networks, as the service asks about them. */
export interface ResolverZone {
  /** Answers for a name asked on the listener at `local` (a gateway address) by `source`; lowercase, no trailing dot. undefined: not ours, forward it. */
  lookup(local: string, name: string, source: string): { ipv4: string[] } | undefined;
  /** PTR: the names of an address of this network, or undefined. */
  reverse(local: string, ipv4: string, source: string): string[] | undefined;
  /** May `source` ask the listener at `local`? (only addresses of that network's subnet may) */
  allowed(local: string, source: string): boolean;
  /** The servers `source`'s forwarded queries go to instead of the service's (a container's --dns, as docker's embedded DNS); undefined or empty: the service's. */
  upstreams?(local: string, source: string): readonly string[] | undefined;
}

/** Docker's TTL for its containers' names. */
export const LOCAL_TTL = 600;

/** Rotates `list` by `turn` (round robin across queries). */
function rotated<T>(list: readonly T[], turn: number): T[] {
  if (list.length < 2) return [...list];
  const k = turn % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/**
 * The local reply to `query`, cut to `limit` bytes, or undefined when the
 * name is not the network's. `turn` picks the rotation of the addresses.
 */
export function answerLocally(zone: ResolverZone, local: string, source: string, query: Query, limit: number, turn: number): Buffer | undefined {
  if (!query.internet || query.name === undefined) return undefined;
  if (query.type === RRType.PTR) {
    const ip = reverseIpv4(query.name);
    if (ip !== undefined) {
      const names = zone.reverse(local, ip, source);
      if (names === undefined) return undefined;
      return reply(query, RCode.NoError, present(names.map((n) => ptrRecord(n, LOCAL_TTL))), limit, true);
    }
  }
  const found = zone.lookup(local, query.name, source);
  if (found === undefined) return undefined;
  const wantsA = query.type === RRType.A || query.type === RRType.ANY;
  const records = wantsA ? present(rotated(found.ipv4, turn).map((ip) => aRecord(ip, LOCAL_TTL))) : [];
  return reply(query, RCode.NoError, records, limit, true);
}

function present(list: readonly (Buffer | undefined)[]): Buffer[] {
  return list.filter((b): b is Buffer => b !== undefined);
}
