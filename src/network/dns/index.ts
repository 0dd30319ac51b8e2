/**
 * The embedded resolver of berth's user networks: containers of one
 * network reach each other by name and alias, other names go to the
 * host's resolvers. service.ts says how berthd drives it.
 */
export { DnsService, type DnsServiceOptions, type DnsStats, type ResolverZone } from './service.ts';
export { hostUpstreams } from './resolv-conf.ts';
