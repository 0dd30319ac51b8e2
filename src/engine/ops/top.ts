/**
 * `GET /containers/{id}/top?ps_args=`: the host's `ps` (procps), its rows
 * kept for the container's processes only, as dockerd does it:
 *
 *   const pids = await cgroupPids(record.cgroupPaths);   // state.json's cgroup paths
 *   const { Titles, Processes } = await top(pids, psArgs);
 *
 * `ps ARGS -q PIDS` first (fast, and only those rows), then plain `ps ARGS`
 * when the options cannot take -q (`f` forest, for one); the default ARGS
 * are "-ef". A row is the columns split on blanks, the columns past the
 * last title joined back with one space (the command line). Thread rows
 * (`-T`, `m`: PID "-") follow the process row they belong to. A `-o`
 * format that renames a column to PID ("-o pid=PID" aside) is refused, as
 * dockerd refuses it: it would make another column pass for the pid.
 */
import { execFile } from 'node:child_process';
import { errnoCode, invalidArgument, unavailable } from '../../errors.ts';
import { cgroupFromPaths, type CgroupOptions, type CgroupPaths } from '../../runtime/cgroups/index.ts';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** Every process of the container's cgroup and its children, from its cgroup.procs (v1: pids, else freezer, memory... ; v2 and hybrid as the runtime made them). */
export function cgroupPids(paths: CgroupPaths, options: Pick<CgroupOptions, 'fsRoot'> = {}): Promise<number[]> {
  return cgroupFromPaths(paths, options).pids();
}

/** dockerd's check on ps_args: no `name=PID...` but `pid=PID...`. */
export function validatePsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (m[1] !== 'pid') throw invalidArgument('top_ps_args', `ps_args "${psArgs}": specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

/** Blanks as Go's strings.Fields over ASCII (a command line's UTF-8 stays whole). */
function fields(line: string): string[] {
  return line.split(/[ \t\n\v\f\r]+/).filter((f) => f !== '');
}

/** Keeps the rows of `pids` from ps output. */
export function parsePsOutput(output: string, pids: readonly number[]): TopResult {
  const lines = output.split('\n');
  const titles = fields(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex === -1) throw invalidArgument('top_no_pid_column', `ps output has no PID column (titles: ${titles.join(' ')}); give ps_args that show it`);
  const wanted = new Set(pids);
  const processes: string[][] = [];
  let inContainer = false;
  const add = (row: string[]): void => {
    processes.push([...row.slice(0, titles.length - 1), row.slice(titles.length - 1).join(' ')]);
  };
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const row = fields(line);
    const pid = row[pidIndex];
    if (pid === '-') {
      if (inContainer) add(row);
      continue;
    }
    if (pid === undefined || !/^[0-9]+$/.test(pid)) throw invalidArgument('top_ps_output', `ps output: unexpected pid "${pid ?? ''}" in line "${line}"`);
    inContainer = wanted.has(Number(pid));
    if (inContainer) add(row);
  }
  return { Titles: titles, Processes: processes };
}

function runPs(args: string[]): Promise<{ ok: true; stdout: string } | { ok: false; missing: boolean; stderr: string; cause: unknown }> {
  return new Promise((resolve) => {
    execFile('ps', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (err === null) resolve({ ok: true, stdout });
      else if (errnoCode(err) === 'ENOENT') resolve({ ok: false, missing: true, stderr: 'ps is not installed (procps)', cause: err });
      else resolve({ ok: false, missing: false, stderr: stderr.trim(), cause: err });
    });
  });
}

/** The container's processes as `ps ARGS` shows them (Docker's ContainerTopOKBody). */
export async function top(pids: readonly number[], psArgs = ''): Promise<TopResult> {
  const text = psArgs.trim() === '' ? '-ef' : psArgs;
  validatePsArgs(text);
  const args = text.split(' ').filter((a) => a !== '');
  let out = pids.length === 0 ? undefined : await runPs([...args, `-q${pids.join(',')}`]);
  if (out === undefined || !out.ok) out = await runPs(args);
  if (!out.ok && out.missing) throw unavailable('top_ps_missing', `top: ${out.stderr}`, { cause: out.cause });
  // ps refuses what it cannot parse: the caller's ps_args.
  if (!out.ok) throw invalidArgument('top_ps_failed', `ps ${args.join(' ')}: ${out.stderr || 'failed'}`, { cause: out.cause });
  return parsePsOutput(out.stdout, pids);
}
