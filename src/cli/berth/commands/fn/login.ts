/**
 * `berth fn login`: checks a user and password against the gateway
 * (`GET /system/functions` with basic auth, as faas-cli validates them)
 * and stores them for the CLI in faas-cli's config (config.ts, mode 0600).
 * `--show` prints instead the credentials the gateway generated at first
 * start, read from berth's root (ROOT/secrets/basic-auth-user and
 * basic-auth-password, readable by root): the machine owner's way in.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, failedPrecondition, invalidArgument, notFound } from '../../../../errors.ts';
import { defineCommand } from '../../context.ts';
import { configPath, saveAuth } from './config.ts';
import { GatewayClient, gatewayError, resolveGateway } from './gateway.ts';
import { GATEWAY_FLAG } from './options.ts';

function readSecret(root: string, file: string): string {
  const path = join(root, 'secrets', file);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') throw notFound('fn_no_credentials', `${path}: not found (the gateway makes it when berthd first starts with its gateway; is --root right?)`);
    if (code === 'EACCES') throw failedPrecondition('fn_credentials_unreadable', `${path}: permission denied (the gateway's credentials are readable by root only)`);
    throw err;
  }
}

export default defineCommand({
  args: [],
  flags: [
    { name: 'username', short: 'u', type: 'string', value: 'USER', help: 'Gateway username (default admin)' },
    { name: 'password', short: 'p', type: 'string', value: 'PASSWORD', help: 'Gateway password (insecure: it shows in the process list; prefer --password-stdin)' },
    { name: 'password-stdin', short: 's', type: 'bool', help: 'Read the gateway password from stdin' },
    { name: 'show', type: 'bool', help: 'Print the gateway\'s generated credentials (from berth\'s root, as root)' },
    GATEWAY_FLAG,
  ],
  async run(ctx, input) {
    if (input.bool('show')) {
      const root = ctx.globals.root;
      ctx.out(`username: ${readSecret(root, 'basic-auth-user')}\npassword: ${readSecret(root, 'basic-auth-password')}\n`);
      return 0;
    }
    const user = input.str('username') ?? 'admin';
    if (user === '') throw invalidArgument('fn_flag_invalid', 'must provide --username or -u');
    let password = input.str('password');
    if (password !== undefined) {
      ctx.stderr.write('WARNING! Using --password is insecure, consider using: cat ~/faas_pass.txt | berth fn login -u user --password-stdin\n');
      if (input.bool('password-stdin')) throw invalidArgument('fn_flag_invalid', '--password and --password-stdin are mutually exclusive');
    }
    if (input.bool('password-stdin')) {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
      password = Buffer.concat(chunks).toString('utf8');
    }
    password = (password ?? '').trim();
    if (password === '') throw invalidArgument('fn_flag_invalid', 'must provide a non-empty password via --password or --password-stdin');
    const url = resolveGateway(input.str('gateway'), undefined);
    ctx.stderr.write('Calling the OpenFaaS server to validate the credentials...\n');
    const client = new GatewayClient(url, `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
    const r = await client.request('GET', '/system/functions');
    const text = await r.text();
    if (r.status === 401) throw failedPrecondition('fn_login_failed', `${url}: unable to login, either username or password is incorrect`);
    if (r.status !== 200) throw gatewayError(r.status, text, `${url}: login`);
    saveAuth(configPath(), url, user, password);
    ctx.out(`credentials saved for ${user} ${url}\n`);
    return 0;
  },
});
