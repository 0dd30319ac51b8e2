/**
 * Docker's network shapes: the Network object of `GET /networks/{id}`
 * (and of the list, without its Containers, as dockerd since API 1.28),
 * and the bodies of `POST /networks/create` and `/networks/{id}/connect`
 * read into what the network store and the engine take. A field berth
 * does not do (IPv6, swarm's Attachable and Ingress, config-only networks,
 * IPAM drivers and options, more than one subnet) is refused when it asks
 * for something other than docker's default, naming the field, never
 * accepted and ignored; fields dockerd does not know are ignored as it
 * ignores them.
 */
import { invalidArgument } from '../../errors.ts';
import { isObject } from '../../json-object.ts';
import type { CreateNetwork, NetworkEndpoint } from '../../network/networks.ts';
import type { NetworkRecord } from '../../network/types.ts';

export function dockerNetwork(n: NetworkRecord, endpoints: readonly NetworkEndpoint[] = []): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const e of endpoints) {
    containers[e.containerId] = { Name: e.containerName, EndpointID: e.endpointId, MacAddress: e.mac, IPv4Address: e.ipv4, IPv6Address: '' };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: n.subnet, Gateway: n.gateway, ...(n.ipRange === undefined ? {} : { IPRange: n.ipRange }) }] },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: n.options,
    Labels: n.labels,
  };
}

const bad = (field: string, why: string): never => {
  throw invalidArgument('api_body_invalid', `network create: field "${field}" ${why}`, { details: { field } });
};

const refuseIn = (what: string, field: string, why: string): never => {
  throw invalidArgument('network_field_unsupported', `${what}: field "${field}": ${why}`, { details: { field } });
};
const refuse = (field: string, why: string): never => refuseIn('network create', field, why);

function optionalString(o: Record<string, unknown>, key: string, field = key): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') bad(field, 'must be a string');
  return v as string;
}

function optionalBool(o: Record<string, unknown>, key: string, field = key): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') bad(field, 'must be true or false');
  return v as boolean;
}

function stringMap(o: Record<string, unknown>, key: string, field = key): Record<string, string> | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === 'string')) bad(field, 'must map names to strings');
  return v as Record<string, string>;
}

/** Only docker's default (false, absent or null) is taken. */
function mustBeFalse(o: Record<string, unknown>, key: string, why: string): void {
  if (optionalBool(o, key) === true) refuse(key, why);
}

function ipamConfig(ipam: Record<string, unknown>): Pick<CreateNetwork, 'subnet' | 'gateway' | 'ipRange'> {
  const driver = optionalString(ipam, 'Driver', 'IPAM.Driver');
  if (driver !== undefined && driver !== '' && driver !== 'default') refuse('IPAM.Driver', `IPAM driver "${driver}" is not supported (only "default")`);
  const options = stringMap(ipam, 'Options', 'IPAM.Options');
  if (options !== undefined && Object.keys(options).length > 0) refuse('IPAM.Options', `IPAM options ${Object.keys(options).join(', ')} are not supported`);
  const config = ipam['Config'];
  if (config === undefined || config === null) return {};
  if (!Array.isArray(config)) return bad('IPAM.Config', 'must be a list');
  if (config.length === 0) return {};
  const entries = config.map((c: unknown, i) => (isObject(c) ? c : bad(`IPAM.Config[${i}]`, 'must be an object')));
  if (entries.some((c) => [c['Subnet'], c['Gateway'], c['IPRange']].some((x) => typeof x === 'string' && x.includes(':')))) {
    refuse('IPAM.Config', 'IPv6 subnets are not supported (IPv4 networks only)');
  }
  if (entries.length > 1) refuse('IPAM.Config', `${entries.length} subnets given: a network here has one IPv4 subnet`);
  const c = entries[0]!;
  const aux = stringMap(c, 'AuxiliaryAddresses', 'IPAM.Config[0].AuxiliaryAddresses');
  if (aux !== undefined && Object.keys(aux).length > 0) refuse('IPAM.Config[0].AuxiliaryAddresses', 'auxiliary addresses are not supported');
  const subnet = optionalString(c, 'Subnet', 'IPAM.Config[0].Subnet');
  const gateway = optionalString(c, 'Gateway', 'IPAM.Config[0].Gateway');
  const ipRange = optionalString(c, 'IPRange', 'IPAM.Config[0].IPRange');
  return { ...(subnet === undefined ? {} : { subnet }), ...(gateway === undefined ? {} : { gateway }), ...(ipRange === undefined ? {} : { ipRange }) };
}

/** `POST /networks/create`'s body (docker's NetworkCreateRequest). */
export function parseNetworkCreate(body: unknown): CreateNetwork {
  if (!isObject(body)) return bad('(body)', 'must be a JSON object');
  const name = optionalString(body, 'Name');
  if (name === undefined || name === '') return bad('Name', 'is required');
  const scope = optionalString(body, 'Scope');
  if (scope !== undefined && scope !== '' && scope !== 'local') refuse('Scope', `scope "${scope}" is not supported (only "local")`);
  mustBeFalse(body, 'EnableIPv6', 'IPv6 is not supported (IPv4 networks only)');
  if (optionalBool(body, 'EnableIPv4') === false) refuse('EnableIPv4', 'a network without IPv4 is not supported');
  mustBeFalse(body, 'Attachable', 'attachable networks are for swarm, which berth has no part in');
  mustBeFalse(body, 'Ingress', 'ingress networks are for swarm, which berth has no part in');
  mustBeFalse(body, 'ConfigOnly', 'config-only networks are not supported');
  const from = body['ConfigFrom'];
  if (from !== undefined && from !== null && !(isObject(from) && (from['Network'] === undefined || from['Network'] === ''))) refuse('ConfigFrom', 'networks made from a config-only network are not supported');
  const ipam = body['IPAM'];
  if (ipam !== undefined && ipam !== null && !isObject(ipam)) bad('IPAM', 'must be an object');
  const driver = optionalString(body, 'Driver');
  const internal = optionalBool(body, 'Internal');
  const checkDuplicate = optionalBool(body, 'CheckDuplicate');
  const labels = stringMap(body, 'Labels');
  const options = stringMap(body, 'Options');
  return {
    name,
    ...(driver === undefined ? {} : { driver }),
    ...(isObject(ipam) ? ipamConfig(ipam) : {}),
    ...(internal === undefined ? {} : { internal }),
    ...(checkDuplicate === undefined ? {} : { checkDuplicate }),
    ...(labels === undefined ? {} : { labels }),
    ...(options === undefined ? {} : { options }),
  };
}

/** What a container asks of a network it joins (docker's EndpointSettings, the part berth does). */
export interface EndpointRequest {
  aliases: string[];
  ipv4Address?: string;
  macAddress?: string;
}

/** `POST /networks/{id}/connect`'s body: the container and its EndpointConfig. */
export function parseNetworkConnect(body: unknown): { container: string; endpoint: EndpointRequest } {
  const what = (field: string, why: string): never => {
    throw invalidArgument('api_body_invalid', `network connect: field "${field}" ${why}`, { details: { field } });
  };
  if (!isObject(body)) return what('(body)', 'must be a JSON object');
  const container = body['Container'];
  if (typeof container !== 'string' || container === '') return what('Container', 'is required');
  const ec = body['EndpointConfig'];
  if (ec === undefined || ec === null) return { container, endpoint: { aliases: [] } };
  if (!isObject(ec)) return what('EndpointConfig', 'must be an object');
  const aliases = ec['Aliases'] ?? [];
  if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === 'string')) return what('EndpointConfig.Aliases', 'must be a list of strings');
  const refuseField = (field: string, why: string): never => refuseIn('network connect', field, why);
  const links = ec['Links'];
  if (Array.isArray(links) && links.length > 0) refuseField('EndpointConfig.Links', 'legacy links are not supported (containers on one user network reach each other by name)');
  const driverOpts = ec['DriverOpts'];
  if (isObject(driverOpts) && Object.keys(driverOpts).length > 0) refuseField('EndpointConfig.DriverOpts', 'endpoint driver options are not supported');
  const ipam = ec['IPAMConfig'];
  let ipv4: string | undefined;
  if (ipam !== undefined && ipam !== null) {
    if (!isObject(ipam)) return what('EndpointConfig.IPAMConfig', 'must be an object');
    const v4 = ipam['IPv4Address'];
    if (v4 !== undefined && v4 !== null && typeof v4 !== 'string') what('EndpointConfig.IPAMConfig.IPv4Address', 'must be a string');
    if (typeof v4 === 'string' && v4 !== '') ipv4 = v4;
    const v6 = ipam['IPv6Address'];
    if (typeof v6 === 'string' && v6 !== '') refuseField('EndpointConfig.IPAMConfig.IPv6Address', 'IPv6 is not supported');
    const ll = ipam['LinkLocalIPs'];
    if (Array.isArray(ll) && ll.length > 0) refuseField('EndpointConfig.IPAMConfig.LinkLocalIPs', 'link-local addresses are not supported');
  }
  const mac = ec['MacAddress'];
  if (mac !== undefined && mac !== null && typeof mac !== 'string') what('EndpointConfig.MacAddress', 'must be a string');
  return {
    container,
    endpoint: { aliases, ...(ipv4 === undefined ? {} : { ipv4Address: ipv4 }), ...(typeof mac === 'string' && mac !== '' ? { macAddress: mac } : {}) },
  };
}
