/**
 * The CNI result (spec 1.0.0, "Success"), checked field by field: what a
 * plugin prints on stdout is `unknown` until parseResult has seen every
 * part berth reads. Fields berth does not read (dns) travel on untouched
 * as the next plugin's prevResult and in the stored result DEL runs with.
 */
import { internal } from '../../errors.ts';

export interface CniInterface {
  name: string;
  mac?: string;
  /** The namespace path for an interface inside the container; absent on the host. */
  sandbox?: string;
}

export interface CniIp {
  /** CIDR: "10.213.0.2/24". */
  address: string;
  gateway?: string;
  /** Index into interfaces. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniResult {
  cniVersion: string;
  interfaces: CniInterface[];
  ips: CniIp[];
  routes: CniRoute[];
  /** The rest of the object as the plugin wrote it (dns, ...). */
  [key: string]: unknown;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(plugin: string, what: string): Error {
  return internal('cni_result_invalid', `CNI plugin "${plugin}": invalid result: ${what}`, { details: { plugin } });
}

function str(plugin: string, o: Obj, key: string, where: string, optional: boolean): string | undefined {
  const v = o[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string') throw bad(plugin, `${where}.${key} is not a string`);
  return v;
}

function list(plugin: string, o: Obj, key: string): Obj[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw bad(plugin, `${key} is not an array`);
  return v.map((item, i) => {
    if (!isObj(item)) throw bad(plugin, `${key}[${i}] is not an object`);
    return item;
  });
}

/** Checks a plugin's stdout JSON (already parsed) as a CNI 1.0 result. */
export function parseResult(plugin: string, value: unknown): CniResult {
  if (!isObj(value)) throw bad(plugin, 'not a JSON object');
  const cniVersion = str(plugin, value, 'cniVersion', 'result', false) ?? '';
  const interfaces = list(plugin, value, 'interfaces').map((o, i): CniInterface => {
    const out: CniInterface = { name: str(plugin, o, 'name', `interfaces[${i}]`, false) ?? '' };
    const mac = str(plugin, o, 'mac', `interfaces[${i}]`, true);
    const sandbox = str(plugin, o, 'sandbox', `interfaces[${i}]`, true);
    if (mac !== undefined) out.mac = mac;
    if (sandbox !== undefined) out.sandbox = sandbox;
    return out;
  });
  const ips = list(plugin, value, 'ips').map((o, i): CniIp => {
    const address = str(plugin, o, 'address', `ips[${i}]`, false) ?? '';
    if (!/^[0-9a-fA-F.:]+\/\d{1,3}$/.test(address)) throw bad(plugin, `ips[${i}].address "${address}" is not a CIDR`);
    const out: CniIp = { address };
    const gateway = str(plugin, o, 'gateway', `ips[${i}]`, true);
    if (gateway !== undefined) out.gateway = gateway;
    const iface = o['interface'];
    if (iface !== undefined) {
      if (typeof iface !== 'number' || !Number.isInteger(iface) || iface < 0 || iface >= interfaces.length) {
        throw bad(plugin, `ips[${i}].interface is not an index into interfaces`);
      }
      out.interface = iface;
    }
    return out;
  });
  const routes = list(plugin, value, 'routes').map((o, i): CniRoute => {
    const out: CniRoute = { dst: str(plugin, o, 'dst', `routes[${i}]`, false) ?? '' };
    const gw = str(plugin, o, 'gw', `routes[${i}]`, true);
    if (gw !== undefined) out.gw = gw;
    return out;
  });
  return { ...value, cniVersion, interfaces, ips, routes };
}

/** The container side of a result for `ifname`: its address and MAC (what inspect and the resolver show). */
export function containerSide(result: CniResult, ifname: string): { ipv4: string; gateway: string; mac: string } | undefined {
  const index = result.interfaces.findIndex((i) => i.name === ifname && i.sandbox !== undefined && i.sandbox !== '');
  if (index === -1) return undefined;
  const ip = result.ips.find((a) => a.interface === index && a.address.includes('.'));
  if (ip === undefined) return undefined;
  return { ipv4: ip.address, gateway: ip.gateway ?? '', mac: result.interfaces[index]?.mac ?? '' };
}

/** The error object a failing plugin prints (spec: "Error"): code, msg, details. */
export interface CniErrorBody {
  code: number;
  msg: string;
  details: string;
}

/** Reads a failing plugin's stdout; undefined when it is not the spec's error object. */
export function parseErrorBody(text: string): CniErrorBody | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObj(value) || typeof value['code'] !== 'number') return undefined;
  const msg = typeof value['msg'] === 'string' ? value['msg'] : '';
  const details = typeof value['details'] === 'string' ? value['details'] : '';
  return { code: value['code'], msg, details };
}
