/**
 * A real registry on loopback for the tests: Debian's docker-registry
 * (distribution 2.8) with its storage and config in a temporary directory,
 * optionally behind htpasswd basic auth or a token server. It listens on a
 * free port found by binding port 0 first (distribution does not report a
 * port it chose itself); a start that loses that race is retried.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface RegistryAuth {
  htpasswd?: { users: Record<string, string> };
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

export interface RegistryServer {
  /** "127.0.0.1:PORT" */
  host: string;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function configYaml(dir: string, port: number, auth: RegistryAuth): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: berth-test-secret',
  ];
  if (auth.htpasswd !== undefined) {
    const file = join(dir, 'htpasswd');
    const entries = Object.entries(auth.htpasswd.users).map(([user, pass]) =>
      execFileSync('htpasswd', ['-Bbn', user, pass], { encoding: 'utf8' }).trim(),
    );
    writeFileSync(file, `${entries.join('\n')}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: berth-test', `    path: ${file}`);
  } else if (auth.token !== undefined) {
    const t = auth.token;
    lines.push('auth:', '  token:', `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.rootCertBundle}`);
  }
  return `${lines.join('\n')}\n`;
}

async function waitUntilServing(host: string, child: ChildProcess, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`http://${host}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

export async function startRegistry(auth: RegistryAuth = {}): Promise<RegistryServer> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = join(dir, 'config.yml');
    writeFileSync(config, configYaml(dir, port, auth));
    const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    if (await waitUntilServing(host, child, 15_000)) {
      return {
        host,
        dir,
        log: () => output,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    if (!/address already in use/.test(output)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start:\n${output}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('docker-registry: no free port after 5 attempts');
}

/** Starts a registry that the test stops when it ends. */
export async function withRegistry(t: TestContext, auth: RegistryAuth = {}): Promise<RegistryServer> {
  const reg = await startRegistry(auth);
  t.after(() => reg.stop());
  return reg;
}
