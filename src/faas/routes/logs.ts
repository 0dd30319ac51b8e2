/**
 * `/system/logs?name=FN[&namespace=][&instance=][&follow=true][&since=RFC3339][&tail=N]`:
 * newline-delimited JSON, one faas-provider logs.Message a line, across the
 * function's replicas, current and past (src/faas/logs.ts). 404 for a
 * function that is not deployed, 400 naming a bad parameter.
 */
import { checkFunctionName, checkNamespace } from '../deployment.ts';
import { parseLogQuery, type FunctionLogs, type LogMessage } from '../logs.ts';
import type { FunctionStore } from '../store.ts';
import { route, type GatewayRoute } from './types.ts';

export interface LogRouteDeps {
  store: FunctionStore;
  logs: FunctionLogs;
}

async function* ndjson(messages: AsyncIterable<LogMessage>): AsyncGenerator<string> {
  for await (const m of messages) yield `${JSON.stringify(m)}\n`;
}

export function logRoutes(d: LogRouteDeps): GatewayRoute[] {
  return [
    route('GET', '/system/logs', ({ query, signal }) => {
      const q = parseLogQuery(query, (v) => checkFunctionName(v, 'name (query)'), (v) => checkNamespace(v, 'namespace (query)'));
      d.store.mustGet(q.namespace, q.name);
      return { status: 200, contentType: 'application/x-ndjson', stream: ndjson(d.logs.read(q, signal)) };
    }),
  ];
}
