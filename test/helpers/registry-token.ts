/**
 * A token server for docker-registry's `auth: token:` mode, run by the
 * tests themselves: a node:http server that checks Basic credentials and
 * issues ES256 JWTs carrying the requested (and allowed) access, with the
 * signing certificate in the `x5c` header so the registry can verify it
 * against the `rootcertbundle` it was given. The key and the self-signed
 * certificate are made with openssl in a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
  /** Every token request seen: who asked, for which scopes. */
  requests: { user: string | undefined; scopes: string[] }[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

function makeKeyAndCert(dir: string): { key: KeyObject; certDer: Buffer; certFile: string } {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=berth-test-token',
    '-days', '2', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const cert = new X509Certificate(readFileSync(certFile));
  return { key: createPrivateKey(readFileSync(keyFile)), certDer: cert.raw, certFile };
}

function jwt(key: KeyObject, certDer: Buffer, claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', x5c: [certDer.toString('base64')] }));
  const body = b64url(JSON.stringify(claims));
  const sig = sign('sha256', Buffer.from(`${head}.${body}`), { key, dsaEncoding: 'ieee-p1363' });
  return `${head}.${body}.${b64url(sig)}`;
}

export interface TokenServerOptions {
  users: Record<string, string>;
  /** Repositories anonymous users may pull. */
  anonymousPull?: string[];
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-token-'));
  const { key, certDer, certFile } = makeKeyAndCert(dir);
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let user: string | undefined;
    const authz = req.headers.authorization;
    if (authz?.startsWith('Basic ') === true) {
      const [u, ...p] = Buffer.from(authz.slice(6), 'base64').toString().split(':');
      if (u === undefined || options.users[u] !== p.join(':')) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      user = u;
    }
    const scopes = url.searchParams.getAll('scope');
    requests.push({ user, scopes });
    const access = scopes.flatMap((s) => {
      const [type, name, actions] = s.split(':');
      if (type !== 'repository' || name === undefined || actions === undefined) return [];
      const allowed = user !== undefined ? actions.split(',') : (options.anonymousPull ?? []).includes(name) ? ['pull'] : [];
      return allowed.length > 0 ? [{ type, name, actions: allowed.filter((a) => user !== undefined || a === 'pull') }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const token = jwt(key, certDer, { iss: issuer, sub: user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: certFile,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function withTokenServer(t: TestContext, options: TokenServerOptions): Promise<TokenServer> {
  const srv = await startTokenServer(options);
  t.after(() => srv.stop());
  return srv;
}
