/**
 * Runs one CNI plugin as the spec says (1.0.0, "Protocol"): the network
 * configuration as JSON on stdin, the parameters in CNI_* variables, the
 * result JSON on stdout; a non-zero exit carries the error object
 * {code, msg, details} on stdout. A plugin gets a time limit (it runs
 * iptables and netlink; one stuck on the xtables lock must not hang the
 * daemon) and is killed past it.
 *
 * Errors become BerthErrors that name the plugin, the command and the
 * network as the user knows it; the plugin's own code is kept in details
 * (3 = "unknown container or does not exist", which DEL tolerates).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { internal, unavailable, type BerthError } from '../../errors.ts';
import { parseErrorBody, parseResult, type CniResult } from './result.ts';

export type CniCommand = 'ADD' | 'CHECK' | 'DEL';

export interface PluginCall {
  pluginDir: string;
  /** The plugin's type: its file name in pluginDir. */
  type: string;
  command: CniCommand;
  containerId: string;
  netns: string;
  ifname: string;
  /** The plugin's configuration as it goes on stdin (name, cniVersion, runtimeConfig, prevResult merged in). */
  config: Record<string, unknown>;
  /** The network as users name it, for messages. */
  networkName: string;
  timeoutMs: number;
}

/** CNI's well-known error code 3: "unknown container or does not exist". */
export const CNI_ERR_UNKNOWN_CONTAINER = 3;

export const DEFAULT_PLUGIN_TIMEOUT_MS = 30_000;

/** Runs a plugin; ADD and CHECK results are parsed (CHECK and DEL print nothing on success). */
export async function execPlugin(call: PluginCall): Promise<CniResult | undefined> {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(call.type)) {
    throw internal('cni_plugin_failed', `network "${call.networkName}": "${call.type}" is not a CNI plugin name`);
  }
  const { stdout, stderr, status } = await run(call);
  const what = `network "${call.networkName}": CNI plugin "${call.type}" ${call.command}`;
  if (status !== 0) throw pluginError(what, call, stdout, stderr, status);
  if (call.command !== 'ADD') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (cause) {
    throw internal('cni_result_invalid', `${what}: result is not JSON`, { cause, details: { plugin: call.type, stdout: stdout.slice(0, 512) } });
  }
  return parseResult(call.type, json);
}

interface Ran {
  stdout: string;
  stderr: string;
  status: number | string;
}

function run(call: PluginCall): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(call.pluginDir, call.type), [], {
      env: {
        PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: call.command,
        CNI_CONTAINERID: call.containerId,
        CNI_NETNS: call.netns,
        CNI_IFNAME: call.ifname,
        CNI_PATH: call.pluginDir,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, call.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      // A plugin that exits before reading its stdin reports why through its exit.
    });
    child.on('error', (cause) => {
      clearTimeout(timer);
      reject(unavailable('cni_plugin_missing', `network "${call.networkName}": CNI plugin "${call.type}" cannot run from ${call.pluginDir}`, { cause }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const status = timedOut ? 'timeout' : (code ?? signal ?? 'killed');
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), status });
    });
    child.stdin.end(JSON.stringify(call.config));
  });
}

function pluginError(what: string, call: PluginCall, stdout: string, stderr: string, status: number | string): BerthError {
  const details: Record<string, unknown> = { plugin: call.type, command: call.command, network: call.networkName, container: call.containerId };
  if (status === 'timeout') return unavailable('cni_plugin_timeout', `${what}: no answer within ${call.timeoutMs} ms`, { details });
  const body = parseErrorBody(stdout);
  if (body === undefined) {
    const text = (stderr.trim() || stdout.trim()).slice(0, 512);
    return internal('cni_plugin_failed', `${what} failed (exit ${status})${text === '' ? '' : `: ${text}`}`, { details });
  }
  details['cniCode'] = body.code;
  const tail = body.details === '' ? '' : `: ${body.details}`;
  return internal('cni_plugin_failed', `${what} failed: ${body.msg}${tail} (CNI error ${body.code})`, { details });
}
