/**
 * Registry authentication as the distribution spec describes it: a 401
 * carries a WWW-Authenticate challenge; "Basic" asks for the user's
 * credentials on every request, "Bearer" sends the client to a token
 * server (realm) with the service and the scopes it needs
 * ("repository:team/app:pull,push"), whose token then rides along as
 * `Authorization: Bearer …`. Tokens are cached per set of scopes.
 */
import { BerthError, ErrorKind } from '../../errors.ts';
import type { Credentials } from './credentials.ts';
import { discard, readBody, send, type HttpResponse } from './http.ts';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="https://x/token",service="reg",scope="a b"` (one or more challenges). */
export function parseChallenges(headerValue: string): Challenge[] {
  const out: Challenge[] = [];
  const re = /\s*([A-Za-z][A-Za-z0-9._~+/-]*)(?:\s+|$)|\s*,?\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/gy;
  let current: Challenge | undefined;
  let m: RegExpExecArray | null;
  while (re.lastIndex < headerValue.length && (m = re.exec(headerValue)) !== null) {
    if (m[1] !== undefined) {
      current = { scheme: m[1].toLowerCase(), params: {} };
      out.push(current);
    } else if (m[2] !== undefined && current !== undefined) {
      current.params[m[2].toLowerCase()] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? '');
    }
    if (m[0] === '') break;
  }
  return out;
}

export function unauthorized(message: string, cause?: unknown): BerthError {
  return new BerthError(ErrorKind.PermissionDenied, 'registry_unauthorized', message, cause === undefined ? {} : { cause });
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

/** A token answer is a few KiB; more is refused before it is parsed. */
export const MAX_TOKEN_ANSWER_BYTES = 1024 * 1024;

export class Authenticator {
  private readonly registry: string;
  private readonly credentials: Credentials | undefined;
  private readonly insecure: boolean;
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();

  constructor(registry: string, credentials: Credentials | undefined, insecure: boolean) {
    this.registry = registry;
    this.credentials = credentials;
    this.insecure = insecure;
  }

  /** The Authorization header for these scopes, when a challenge has been seen. */
  async authorization(scopes: string[]): Promise<string | undefined> {
    const ch = this.challenge;
    if (ch === undefined) return undefined;
    if (ch.scheme === 'basic') return this.basic();
    if (ch.scheme !== 'bearer') return undefined;
    const key = [...scopes].sort().join(' ');
    const cached = this.tokens.get(key);
    if (cached !== undefined && cached.expiresAt > Date.now()) return `Bearer ${cached.value}`;
    const token = await this.fetchToken(ch, scopes);
    this.tokens.set(key, token);
    return `Bearer ${token.value}`;
  }

  /**
   * Learns from a 401. True when a retry with new authorization can
   * succeed; false when this challenge was already answered and failed.
   */
  onUnauthorized(res: HttpResponse, scopes: string[]): boolean {
    const value = res.headers['www-authenticate'];
    const challenges = parseChallenges(Array.isArray(value) ? value.join(', ') : (value ?? ''));
    const ch = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (ch === undefined) return false;
    const known = this.challenge;
    const same = known !== undefined && known.scheme === ch.scheme && known.params['realm'] === ch.params['realm'];
    this.challenge = ch;
    if (ch.scheme === 'basic') return !same && this.credentials !== undefined;
    const key = [...scopes].sort().join(' ');
    if (same && this.tokens.has(key)) {
      this.tokens.delete(key);
      return false;
    }
    return true;
  }

  private basic(): string | undefined {
    if (this.credentials === undefined) return undefined;
    return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
  }

  private async fetchToken(ch: Challenge, scopes: string[]): Promise<CachedToken> {
    const realm = ch.params['realm'];
    if (realm === undefined) throw unauthorized(`registry ${this.registry}: Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch (err) {
      throw unauthorized(`registry ${this.registry}: token realm "${realm}" is not a URL`, err);
    }
    if (ch.params['service'] !== undefined) url.searchParams.set('service', ch.params['service']);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = { accept: 'application/json' };
    const basic = this.basic();
    if (basic !== undefined) headers['authorization'] = basic;
    const res = await send({ method: 'GET', url, headers, insecure: this.insecure });
    if (res.status !== 200) {
      discard(res);
      throw unauthorized(`registry ${this.registry}: token server ${url.origin}${url.pathname} answered ${res.status}`);
    }
    const body = await readBody(res, MAX_TOKEN_ANSWER_BYTES, `registry ${this.registry}: token server ${url.origin}${url.pathname}: answer`);
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      // JSON.parse's message quotes the text: a hostile server's terminal escapes or someone's secret.
      throw unauthorized(`registry ${this.registry}: token server ${url.origin}${url.pathname}: answer is not JSON (${body.length} bytes)`);
    }
    const rec = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
    const value = typeof rec['token'] === 'string' ? rec['token'] : rec['access_token'];
    if (typeof value !== 'string' || value === '') throw unauthorized(`registry ${this.registry}: token server answer has no "token"`);
    const expiresIn = typeof rec['expires_in'] === 'number' && rec['expires_in'] > 0 ? rec['expires_in'] : 60;
    // Renew ahead of expiry so a long pull does not present a stale token.
    return { value, expiresAt: Date.now() + Math.max(expiresIn - 10, 5) * 1000 };
  }
}
