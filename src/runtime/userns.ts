/**
 * User namespace id mappings, written by the parent as the kernel requires:
 * directly when running as root (or for the single mapping of one's own
 * id), through the setuid newuidmap/newgidmap helpers otherwise.
 */
import { writeFileSync } from 'node:fs';
import { describeError, errnoCode, failedPrecondition } from '../errors.ts';
import type { IdMapping } from '../oci/runtime-spec.ts';

function mapText(maps: readonly IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

async function helper(cmd: string, pid: number, maps: readonly IdMapping[]): Promise<void> {
  const args = [String(pid), ...maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
  const { execFile } = process.getBuiltinModule('node:child_process');
  const { promisify } = process.getBuiltinModule('node:util');
  try {
    await promisify(execFile)(cmd, args);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw failedPrecondition('idmap_helper_missing', `${cmd} not found: install the uidmap package to map several ids without root`);
    }
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw failedPrecondition('idmap_failed', `${cmd} ${args.join(' ')}: ${stderr || describeError(err)}`, { cause: err });
  }
}

// eslint-disable-next-line @typescript-eslint/require-await
async function writeMap(file: string, text: string): Promise<void> {
  try {
    writeFileSync(file, text);
  } catch (err) {
    throw failedPrecondition('idmap_failed', `write ${file} (${JSON.stringify(text.trim())}): ${describeError(err)}`, { cause: err });
  }
}

export async function writeIdMappings(pid: number, uids: readonly IdMapping[], gids: readonly IdMapping[]): Promise<void> {
  const euid = process.geteuid?.() ?? 0;
  const egid = process.getegid?.() ?? 0;
  if (euid === 0) {
    await writeMap(`/proc/${pid}/uid_map`, mapText(uids));
    await writeMap(`/proc/${pid}/gid_map`, mapText(gids));
    return;
  }
  const selfOnly = (maps: readonly IdMapping[], id: number): boolean => maps.length === 1 && maps[0]?.hostID === id && maps[0].size === 1;
  if (selfOnly(uids, euid)) await writeMap(`/proc/${pid}/uid_map`, mapText(uids));
  else await helper('newuidmap', pid, uids);
  if (selfOnly(gids, egid)) {
    await writeMap(`/proc/${pid}/setgroups`, 'deny');
    await writeMap(`/proc/${pid}/gid_map`, mapText(gids));
  } else {
    await helper('newgidmap', pid, gids);
  }
}
