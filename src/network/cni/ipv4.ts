/** IPv4 CIDR arithmetic for the IPAM ranges a conflist names (addresses as 32-bit unsigned numbers). */
import { isIPv4 } from 'node:net';

export interface Cidr4 {
  base: number;
  prefix: number;
}

export function parseIp4(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function formatIp4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export function parseCidr4(text: string): Cidr4 | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (m === null) return undefined;
  const ip = parseIp4(m[1]!);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix };
}

export function lastIp4(c: Cidr4): number {
  return c.base + 2 ** (32 - c.prefix) - 1;
}

export function contains4(c: Cidr4, ip: number): boolean {
  return ip >= c.base && ip <= lastIp4(c);
}
