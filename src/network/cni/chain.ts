/**
 * A conflist run as the spec says ("Network configuration list runtime
 * semantics"): ADD plugin by plugin, each result the next one's
 * prevResult; CHECK in the same order with the ADD's final result; DEL in
 * reverse order with that same result, going on past a failing plugin so
 * one error does not leave the others' state behind (the first error is
 * thrown at the end).
 */
import { internal } from '../../errors.ts';
import { execPlugin, type CniCommand } from './exec.ts';
import { pluginConfig, type Conflist, type PluginConf, type RuntimeConfig } from './conflist.ts';
import type { CniResult } from './result.ts';

/** What a catch got, as something `throw` may carry. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export interface ChainContext {
  pluginDir: string;
  containerId: string;
  netns: string;
  ifname: string;
  networkName: string;
  timeoutMs: number;
}

function call(ctx: ChainContext, list: Conflist, plugin: PluginConf, command: CniCommand, runtime: RuntimeConfig, prev: unknown): Promise<CniResult | undefined> {
  return execPlugin({ ...ctx, type: plugin.type, command, config: pluginConfig(list, plugin, runtime, prev) });
}

export async function addChain(ctx: ChainContext, list: Conflist, runtime: RuntimeConfig): Promise<CniResult> {
  let prev: CniResult | undefined;
  for (const plugin of list.plugins) {
    const result = await call(ctx, list, plugin, 'ADD', runtime, prev);
    if (result === undefined) throw internal('cni_result_invalid', `network "${ctx.networkName}": CNI plugin "${plugin.type}" ADD gave no result`);
    prev = result;
  }
  if (prev === undefined) throw internal('cni_result_invalid', `network "${ctx.networkName}": empty plugin list`);
  return prev;
}

export async function checkChain(ctx: ChainContext, list: Conflist, runtime: RuntimeConfig, result: CniResult): Promise<void> {
  for (const plugin of list.plugins) await call(ctx, list, plugin, 'CHECK', runtime, result);
}

/** DEL every plugin, last first; `result` is the ADD's (undefined when the ADD never finished). */
export async function delChain(ctx: ChainContext, list: Conflist, runtime: RuntimeConfig, result: CniResult | undefined): Promise<void> {
  let first: Error | undefined;
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await call(ctx, list, plugin, 'DEL', runtime, result);
    } catch (err) {
      first ??= asError(err);
    }
  }
  if (first !== undefined) throw first;
}

/** A conflist read back from the database: checked before it is run again. */
export function parseConflist(value: unknown): Conflist {
  const bad = (what: string): Error => internal('cni_config_invalid', `stored CNI configuration: ${what}`);
  if (typeof value !== 'object' || value === null) throw bad('not an object');
  const o = value as Record<string, unknown>;
  if (typeof o['cniVersion'] !== 'string' || typeof o['name'] !== 'string' || !Array.isArray(o['plugins'])) {
    throw bad('cniVersion, name or plugins missing');
  }
  const plugins = o['plugins'].map((p: unknown, i): PluginConf => {
    if (typeof p !== 'object' || p === null || typeof (p as Record<string, unknown>)['type'] !== 'string') throw bad(`plugins[${i}] has no type`);
    return p as PluginConf;
  });
  return { cniVersion: o['cniVersion'], name: o['name'], plugins };
}
