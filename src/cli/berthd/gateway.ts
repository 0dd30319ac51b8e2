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
import { DEFAULT_GATEWAY, parseGatewayAddress, startGateway, type Gateway } from '../../faas/gateway.ts';

export interface GatewayFlag {
  host: string;
  port: number;
  /** Given by flag: a gateway that cannot listen stops berthd. */
  required: boolean;
}

/** berthd's --gateway: ADDR:PORT, or off; the default when not given. */
export function gatewayOption(raw: string | undefined): GatewayFlag | undefined {
  if (raw === 'off') return undefined;
  return { ...parseGatewayAddress(raw ?? DEFAULT_GATEWAY), required: raw !== undefined };
}

export async function startDaemonGateway(engine: Engine, root: string, flag: GatewayFlag, logger: Logger): Promise<Gateway | undefined> {
  try {
    return await startGateway({ engine, root, host: flag.host, port: flag.port, logger, metrics: new MetricsRegistry() });
  } catch (err) {
    if (flag.required) throw err;
    logger.warn('functions gateway not started (berthd --gateway chooses another address)', { host: flag.host, port: flag.port, err });
    return undefined;
  }
}
