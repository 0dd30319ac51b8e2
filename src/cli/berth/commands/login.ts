/**
 * `berth login REGISTRY` — credentials in the docker CLI's config.json,
 * checked against the registry before they are written.
 */
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../../../errors.ts';
import { RegistryClient } from '../../../image/registry/client.ts';
import { defaultAuthFile, storeCredentials } from '../../../image/registry/credentials.ts';
import { defineCommand } from '../context.ts';

/** "https://host:5000/v2/" → "host:5000". */
export function registryName(input: string): string {
  return input.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
}

export default defineCommand({
  args: ['REGISTRY'],
  flags: [
    { name: 'username', short: 'u', type: 'string', value: 'USER', help: 'the user name' },
    { name: 'password', short: 'p', type: 'string', value: 'PASS', help: 'the password (prefer --password-stdin)' },
    { name: 'password-stdin', type: 'bool', help: 'read the password from standard input' },
  ],
  async run(ctx, input) {
    const registry = registryName(input.args[0] ?? '');
    const username = input.str('username');
    let password = input.str('password');
    if (input.bool('password-stdin')) password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    if (username === undefined || password === undefined) throw invalidArgument('missing_flag', 'login: --username and a password (--password or --password-stdin) are required');
    const tls = ctx.globals.tlsVerify;
    const client = new RegistryClient({ registry, credentials: { username, password }, ...(tls === undefined ? {} : { insecure: !tls }) });
    await client.ping();
    await storeCredentials(registry, { username, password }, ctx.globals.authFile ?? defaultAuthFile());
    ctx.out('Login Succeeded!\n');
    return 0;
  },
});
