/**
 * `berth login REGISTRY` and `berth logout REGISTRY|--all` — credentials in
 * the docker CLI's config.json, checked against the registry before they
 * are written.
 */
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../../../errors.ts';
import { RegistryClient } from '../../../image/registry/client.ts';
import { defaultAuthFile, removeCredentials, storeCredentials } from '../../../image/registry/credentials.ts';
import { bool, operands, str, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import type { Command } from './command.ts';

const loginUsage = 'berth login --username USER (--password PASS | --password-stdin) REGISTRY';

function registryName(input: string): string {
  return input.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
}

export const login: Command = {
  usage: loginUsage,
  summary: 'Store registry credentials (after checking them)',
  options: { username: { type: 'string', short: 'u' }, password: { type: 'string', short: 'p' }, 'password-stdin': { type: 'boolean' } },
  async run(ctx: CommandContext, p: Parsed) {
    const [input = ''] = operands(p, 1, 1, loginUsage);
    const registry = registryName(input);
    const username = str(p, 'username');
    let password = str(p, 'password');
    if (bool(p, 'password-stdin')) password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    if (username === undefined || password === undefined) throw invalidArgument('missing_flag', `--username and a password are required\nusage: ${loginUsage}`);
    const tls = ctx.globals.tlsVerify;
    const client = new RegistryClient({ registry, credentials: { username, password }, ...(tls === undefined ? {} : { insecure: !tls }) });
    await client.ping();
    await storeCredentials(registry, { username, password }, ctx.globals.authFile ?? defaultAuthFile());
    ctx.out('Login Succeeded!\n');
    return 0;
  },
};

export const logout: Command = {
  usage: 'berth logout (REGISTRY | --all)',
  summary: 'Remove stored registry credentials',
  options: { all: { type: 'boolean', short: 'a' } },
  async run(ctx: CommandContext, p: Parsed) {
    const file = ctx.globals.authFile ?? defaultAuthFile();
    if (bool(p, 'all')) {
      operands(p, 0, 0, 'berth logout --all');
      const { writeFileAtomic } = await import('../../../image/store/content.ts');
      const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      doc['auths'] = {};
      await writeFileAtomic(file, `${JSON.stringify(doc, null, '\t')}\n`, 0o600);
      ctx.out('Removed login credentials for all registries\n');
      return 0;
    }
    const [input = ''] = operands(p, 1, 1, 'berth logout REGISTRY');
    const registry = registryName(input);
    if (!(await removeCredentials(registry, file))) {
      throw invalidArgument('not_logged_in', `not logged into ${registry}`);
    }
    ctx.out(`Removed login credentials for ${registry}\n`);
    return 0;
  },
};
