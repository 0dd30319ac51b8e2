/**
 * berthd's functions gateway (`--gateway ADDR:PORT|off`): started after
 * the engine, in the same process (src/faas/README.md says why), with its
 * own metrics registry for the gateway's `/metrics`. The default address
 * may be taken on a host (8080 is popular): berthd then goes on without
 * the gateway and logs why; an address given by flag must work.
 */
import type { Logger } from '../../api/log.ts';
import { MetricsRegistry } from '../../api/metrics.ts';
import type { Engine } from '../../engine/engine.ts';
import { invalidArgument } from '../../errors.ts';
import { DEFAULT_GATEWAY, parseGatewayAddress, startGateway, type Gateway } from '../../faas/gateway.ts';
import type { AsyncQueueOptions } from '../../faas/queue/worker.ts';

export interface GatewayFlag {
  host: string;
  port: number;
  /** Given by flag: a gateway that cannot listen stops berthd. */
  required: boolean;
  /** --async-max-inflight, --async-function-max-inflight. */
  async?: Partial<AsyncQueueOptions>;
  /** --faas-primed-max. */
  primedMax?: number;
}

/** A number of tries at once (1 to 10000), of a flag. */
function inflight(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 10_000) throw invalidArgument('faas_async_flag_invalid', `--${flag} ${JSON.stringify(raw)}: not a number of calls at once (1 to 10000)`);
  return Number(raw);
}

/** berthd's --async-max-inflight (all functions) and --async-function-max-inflight (each), checked. */
export function asyncOptions(given: { maxInflight?: string | undefined; perFunction?: string | undefined }): Partial<AsyncQueueOptions> {
  const all = inflight('async-max-inflight', given.maxInflight);
  const each = inflight('async-function-max-inflight', given.perFunction);
  return { ...(all === undefined ? {} : { maxInflight: all }), ...(each === undefined ? {} : { maxInflightPerFunction: each }) };
}

/** berthd's --faas-primed-max: how many functions at zero keep a primed replica (0 to 100000). */
export function primedMaxOption(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) > 100_000) throw invalidArgument('faas_primed_flag_invalid', `--faas-primed-max ${JSON.stringify(raw)}: not a number of functions (0 to 100000)`);
  return Number(raw);
}

/** berthd's --gateway: ADDR:PORT, or off; the default when not given. */
export function gatewayOption(raw: string | undefined, async: Partial<AsyncQueueOptions> = {}, primedMax?: number): GatewayFlag | undefined {
  if (raw === 'off') return undefined;
  return {
    ...parseGatewayAddress(raw ?? DEFAULT_GATEWAY),
    required: raw !== undefined,
    ...(Object.keys(async).length === 0 ? {} : { async }),
    ...(primedMax === undefined ? {} : { primedMax }),
  };
}

/** `fd`: the gateway's socket, listening already (berthd woken from its sleep). */
export async function startDaemonGateway(engine: Engine, root: string, flag: GatewayFlag, logger: Logger, fd?: number): Promise<Gateway | undefined> {
  try {
    return await startGateway({
      engine, root, host: flag.host, port: flag.port, logger, metrics: new MetricsRegistry(),
      ...(flag.async === undefined ? {} : { async: flag.async }),
      ...(flag.primedMax === undefined ? {} : { primedMax: flag.primedMax }),
      ...(fd === undefined ? {} : { fd }),
    });
  } catch (err) {
    if (flag.required) throw err;
    logger.warn('functions gateway not started (berthd --gateway chooses another address)', { host: flag.host, port: flag.port, err });
    return undefined;
  }
}
