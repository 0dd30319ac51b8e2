/**
 * berth's own `/system/async-calls` routes (under the gateway's basic
 * auth; OpenFaaS has no API for its queue): the calls owed and the dead
 * letters, one call with its tries, replay and delete.
 *
 *   GET    /system/async-calls[?function=FN][&state=queued|running|dead]   summaries, oldest first
 *   GET    /system/async-calls/{id}                                        summary and attempts
 *   DELETE /system/async-calls/{id}                                        a queued or dead call
 *   POST   /system/async-calls/{id}/replay                                 a dead call queued again (202)
 *   POST   /system/async-calls/replay   {"function": FN}                   every dead call of FN (202, {"replayed": n})
 */
import { invalidArgument } from '../../errors.ts';
import { isObject } from '../../json-object.ts';
import { checkFunctionName } from '../deployment.ts';
import { ok, route, text, type GatewayRoute } from '../routes/types.ts';
import type { CallState, CallStore } from './store.ts';
import type { AsyncQueue } from './worker.ts';

const STATES: readonly CallState[] = ['queued', 'running', 'dead'];

export function asyncCallRoutes(d: { calls: CallStore; queue: AsyncQueue }): GatewayRoute[] {
  return [
    route('GET', '/system/async-calls', ({ query }) => {
      const fn = query.get('function');
      const state = query.get('state');
      if (state !== null && !STATES.includes(state as CallState)) throw invalidArgument('faas_body_invalid', `state (query): ${JSON.stringify(state)} is not one of ${STATES.join(', ')}`);
      const limitRaw = query.get('limit');
      if (limitRaw !== null && !/^\d{1,6}$/.test(limitRaw)) throw invalidArgument('faas_body_invalid', `limit (query): ${JSON.stringify(limitRaw)} is not a number`);
      return ok(
        d.calls.list({
          ...(fn === null || fn === '' ? {} : { function: checkFunctionName(fn, 'function (query)') }),
          ...(state === null ? {} : { state: state as CallState }),
          ...(limitRaw === null ? {} : { limit: Number(limitRaw) }),
        }),
      );
    }),
    route('GET', '/system/async-calls/{id}', ({ params }) => {
      const id = params['id'] ?? '';
      return ok({ ...d.calls.mustGet(id), tries: d.calls.attempts(id) });
    }),
    route('DELETE', '/system/async-calls/{id}', ({ params }) => {
      d.calls.remove(params['id'] ?? '');
      return text('', 200);
    }),
    route('POST', '/system/async-calls/replay', async (req) => {
      const body = await req.json();
      if (!isObject(body)) throw invalidArgument('faas_body_invalid', 'replay request: body: not a JSON object ({"function": NAME})');
      const fn = checkFunctionName(body['function'], 'function');
      const replayed = d.calls.replayFunction(fn);
      d.queue.wake();
      return ok({ replayed }, 202);
    }),
    route('POST', '/system/async-calls/{id}/replay', ({ params }) => {
      d.calls.replay(params['id'] ?? '');
      d.queue.wake();
      return text('', 202);
    }),
  ];
}
