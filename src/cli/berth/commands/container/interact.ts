/**
 * The container commands that hold a terminal or move files: exec, attach,
 * cp, update. exec and attach hijack the connection as docker's CLI does
 * (attach-io.ts); cp speaks the archive routes with tar on this side.
 */
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { describeError, failedPrecondition, invalidArgument } from '../../../../errors.ts';
import { parseResources } from '../../../../engine/spec/resources.ts';
import { CP_FLAGS, UPDATE_FLAGS } from '../../command-flags.ts';
import { EXEC_FLAGS, execFlagsFrom } from '../../container-flags.ts';
import { defineCommand } from '../../context.ts';
import { pump, containerPath as path } from './attach-io.ts';


export const exec = defineCommand({
  args: ['CONTAINER', 'COMMAND', '[ARG...]'],
  flags: EXEC_FLAGS,
  flagsEndAtFirstArg: true,
  async run(ctx, input) {
    const [name = '', ...cmd] = input.args;
    const f = execFlagsFrom(input.flags, (p) => readFileSync(p, 'utf8'), process.env);
    const client = await ctx.daemon();
    const stdin = f.interactive && !f.detach;
    const config = {
      Cmd: cmd,
      Env: f.env,
      Tty: f.tty,
      AttachStdin: stdin,
      AttachStdout: !f.detach,
      AttachStderr: !f.detach,
      ...(f.user === undefined ? {} : { User: f.user }),
      ...(f.workdir === undefined ? {} : { WorkingDir: f.workdir }),
      ...(f.tty && process.stdout.isTTY ? { ConsoleSize: [process.stdout.rows, process.stdout.columns] } : {}),
    };
    const { Id } = (await client.json('POST', path(name, '/exec'), { body: config })) as { Id: string };
    if (f.detach) {
      await client.json('POST', `/exec/${Id}/start`, { body: { Detach: true } });
      return 0;
    }
    const h = await client.hijack('POST', `/exec/${Id}/start`, { body: { Detach: false, Tty: f.tty } });
    const io = pump(client, Id, h.socket, { stdin, tty: f.tty }, `/exec/${Id}/resize`);
    await io.done;
    const inspect = (await client.json('GET', `/exec/${Id}/json`)) as { ExitCode: number | null };
    return inspect.ExitCode ?? 126;
  },
});

export const attach = defineCommand({
  args: ['CONTAINER'],
  flags: [{ name: 'no-stdin', type: 'bool', help: 'Do not attach STDIN' }],
  async run(ctx, input) {
    const [name = ''] = input.args;
    const client = await ctx.daemon();
    const info = (await client.json('GET', path(name, '/json'))) as { Id: string; State: { Running: boolean }; Config: { Tty: boolean; OpenStdin: boolean } };
    if (!info.State.Running) throw failedPrecondition('container_not_running', `container "${name}": is not running; you cannot attach to a stopped container, start it first`);
    const stdin = info.Config.OpenStdin && !input.bool('no-stdin');
    const h = await client.hijack('POST', path(info.Id, '/attach'), { query: { stream: true, stdin, stdout: true, stderr: true } });
    const io = pump(client, info.Id, h.socket, { stdin, tty: info.Config.Tty });
    await io.resized();
    await io.done;
    const after = (await client.json('GET', path(info.Id, '/json'))) as { State: { Running: boolean; ExitCode: number } };
    return after.State.Running ? 0 : after.State.ExitCode;
  },
});

/** CONTAINER:PATH, or a local path (`-` for a tar stream on stdin/stdout). */
function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.') || arg === '-') return { path: arg };
  const colon = arg.indexOf(':');
  if (colon <= 0) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** Runs tar with its stdio as given; resolves when it exits 0. */
function tar(args: string[], stdio: ['pipe' | 'ignore', 'pipe' | 'ignore' | 'inherit', 'inherit']): ChildProcess {
  // Loaded by cp alone: exec, attach and update, in the same module, never spawn.
  return process.getBuiltinModule('node:child_process').spawn('tar', args, { stdio });
}

function exited(child: ChildProcess, what: string): Promise<void> {
  return new Promise((res, rej) =>
    child.on('close', (code) => (code === 0 ? res() : rej(invalidArgument('cp_failed', `${what}: tar exited ${String(code)}`)))),
  );
}

export const cp = defineCommand({
  args: ['SRC', 'DEST'],
  flags: CP_FLAGS,
  async run(ctx, input) {
    const [srcArg = '', dstArg = ''] = input.args;
    const src = splitCpArg(srcArg);
    const dst = splitCpArg(dstArg);
    if ((src.container === undefined) === (dst.container === undefined)) {
      throw invalidArgument('cp_failed', 'cp: one of SRC and DEST must be CONTAINER:PATH, the other a local path (copying between containers is not supported, as docker)');
    }
    const client = await ctx.daemon();
    if (src.container !== undefined) {
      // Container → host: the daemon's tar of the path, unpacked here under the name docker chooses.
      const res = await client.open('GET', path(src.container, '/archive'), { query: { path: src.path } });
      if ((res.statusCode ?? 0) >= 400) {
        const chunks: Buffer[] = [];
        for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
        const { errorFromAnswer } = await import('../../../../api/client.ts');
        throw errorFromAnswer(res.statusCode ?? 0, Buffer.concat(chunks), `cp ${srcArg}`);
      }
      if (dst.path === '-') {
        res.pipe(process.stdout);
        await new Promise((r) => res.on('end', r));
        return 0;
      }
      const target = resolve(dst.path);
      const statHeader = String(res.headers['x-docker-container-path-stat'] ?? '');
      const stat = JSON.parse(Buffer.from(statHeader, 'base64').toString() || '{}') as { name?: string };
      const srcName = stat.name ?? basename(src.path);
      const copyContents = src.path.endsWith('/.');
      let dir: string;
      let strip: string[] = [];
      let rename: string | undefined;
      if (existsSync(target) && lstatSync(target).isDirectory()) {
        dir = target;
        if (copyContents) strip = ['--strip-components=1'];
      } else {
        if (!existsSync(dirname(target))) throw invalidArgument('cp_failed', `cp: destination directory "${dirname(target)}" does not exist`);
        dir = dirname(target);
        rename = basename(target);
      }
      const args = ['-x', '-f', '-', '-C', dir, ...strip, ...(input.bool('archive') ? ['--same-owner'] : ['--no-same-owner'])];
      if (rename !== undefined && rename !== srcName) args.push(`--transform=s,^${srcName.replace(/[,\\.*[\]^$]/g, '\\$&')},${rename.replace(/[,&\\]/g, '\\$&')},`);
      const t = tar(args, ['pipe', 'ignore', 'inherit']);
      res.pipe(t.stdin!);
      await exited(t, `cp ${srcArg}`);
      return 0;
    }
    // Host → container: a tar of the local path (or stdin for `-`), extracted by the daemon into the destination directory.
    const container = dst.container!;
    let body: NodeJS.ReadableStream;
    let done: Promise<void> = Promise.resolve();
    let into = dst.path;
    if (src.path === '-') {
      body = process.stdin;
    } else {
      const local = resolve(src.path);
      if (!existsSync(local)) throw invalidArgument('cp_failed', `cp: local path "${src.path}" does not exist`);
      const follow = input.bool('follow-link') ? ['-h'] : [];
      // Into an existing directory: keep the name; else the destination names the copy.
      let name = basename(local);
      const head = await client.request('HEAD', path(container, '/archive'), { query: { path: dst.path } });
      const exists = head.status === 200;
      const isDir = exists && (JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat'] ?? ''), 'base64').toString() || '{}') as { mode?: number }).mode! & 0x80000000;
      if (!exists || !isDir) {
        into = dirname(dst.path) || '/';
        name = basename(dst.path);
      }
      const contents = src.path.endsWith('/.');
      const args = contents ? ['-c', '-f', '-', ...follow, '-C', local, '.'] : ['-c', '-f', '-', ...follow, '-C', dirname(local), `--transform=s,^${basename(local).replace(/[,\\.*[\]^$]/g, '\\$&')},${name.replace(/[,&\\]/g, '\\$&')},`, basename(local)];
      const t = tar(args, ['ignore', 'pipe', 'inherit']);
      body = t.stdout!;
      done = exited(t, `cp ${srcArg}`);
    }
    const q = new URLSearchParams({ path: into, noOverwriteDirNonDir: '1', copyUIDGID: input.bool('archive') ? '1' : '0' });
    const status = await new Promise<{ code: number; text: string }>((res, rej) => {
      const req = request({ socketPath: client.socket, method: 'PUT', path: `${path(container, '/archive')}?${q.toString()}`, headers: { 'Content-Type': 'application/x-tar' } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => res({ code: r.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', rej);
      body.pipe(req);
    });
    await done;
    if (status.code >= 400) {
      const { errorFromAnswer } = await import('../../../../api/client.ts');
      throw errorFromAnswer(status.code, status.text, `cp ${dstArg}`);
    }
    return 0;
  },
});

export const update = defineCommand({
  args: ['CONTAINER...'],
  flags: UPDATE_FLAGS,
  async run(ctx, input) {
    const r = parseResources({
      ...(input.str('memory') === undefined ? {} : { memory: input.str('memory') }),
      ...(input.str('memory-swap') === undefined ? {} : { memorySwap: input.str('memory-swap') }),
      ...(input.str('cpus') === undefined ? {} : { cpus: input.str('cpus') }),
      ...(input.str('pids-limit') === undefined ? {} : { pidsLimit: input.str('pids-limit') }),
    }).resources;
    const restart = input.str('restart');
    const body: Record<string, unknown> = {
      ...(r.memory?.limit === undefined ? {} : { Memory: r.memory.limit }),
      ...(r.memory?.swap === undefined ? {} : { MemorySwap: r.memory.swap }),
      ...(r.cpu?.quota === undefined || r.cpu.period === undefined ? {} : { NanoCpus: Math.round((r.cpu.quota / r.cpu.period) * 1e9) }),
      ...(r.pids?.limit === undefined ? {} : { PidsLimit: r.pids.limit }),
    };
    if (restart !== undefined) {
      const [nameOf, max] = restart.split(':');
      body['RestartPolicy'] = { Name: nameOf, MaximumRetryCount: max === undefined ? 0 : Number(max) };
    }
    const client = await ctx.daemon();
    let failed = 0;
    for (const n of input.args) {
      try {
        await client.json('POST', path(n, '/update'), { body });
        ctx.out(`${n}\n`);
      } catch (err) {
        failed++;
        ctx.stderr.write(`berth: ${describeError(err)}\n`);
      }
    }
    return failed > 0 ? 1 : 0;
  },
});

