/**
 * `/system/functions` (GET list, POST deploy, PUT update, DELETE remove),
 * `/system/function/{name}` and `/system/scale-function/{name}`, with
 * OpenFaaS's shapes (FunctionDeployment in, FunctionStatus out) and status
 * codes (202 for deploy and scale, 200 for update and delete). Deploy and
 * update return once the record is durable; replicas follow (their state is
 * in availableReplicas).
 */
import { namespaceQuery } from '../namespaces.ts';
import { invalidArgument } from '../../errors.ts';
import { isObject } from '../../json-object.ts';
import { checkFunctionName, checkNamespace, deployReplicas, parseDeployment, type FunctionSpec } from '../deployment.ts';
import { limitsShown } from '../limits.ts';
import type { FunctionLogs } from '../logs.ts';
import { functionKey } from '../namespaces.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { Replicas } from '../replicas.ts';
import type { Scaler } from '../scaler.ts';
import type { SecretStore } from '../secrets.ts';
import { deploymentOf, type FunctionRecord, type FunctionStore } from '../store.ts';
import { ok, route, text, type GatewayRoute } from './types.ts';

export interface FunctionRouteDeps {
  store: FunctionStore;
  replicas: Replicas;
  scaler: Scaler;
  metrics: GatewayMetrics;
  secrets: SecretStore;
  logs: FunctionLogs;
}

/** A deployment naming a secret that does not exist is refused (its replicas could not start), naming the secret. */
function checkSecretsExist(d: FunctionRouteDeps, spec: FunctionSpec): void {
  const missing = spec.secrets.filter((s) => !d.secrets.exists(spec.namespace, s));
  if (missing.length === 0) return;
  const names = missing.map((s) => `"${s}"`).join(', ');
  throw invalidArgument('faas_deployment_invalid', `function deployment: secrets: ${names} not found in namespace ${spec.namespace} (create ${missing.length > 1 ? 'them' : 'it'} with POST /system/secrets)`);
}

/** OpenFaaS's FunctionStatus of a record. */
export function functionStatus(r: FunctionRecord, d: Pick<FunctionRouteDeps, 'replicas' | 'metrics'>): Record<string, unknown> {
  const { service, ...rest } = deploymentOf(r.spec);
  return {
    name: service,
    ...rest,
    invocationCount: d.metrics.invocationCount(functionKey(r.spec.namespace, r.spec.name)),
    replicas: r.replicas,
    availableReplicas: d.replicas.ready(functionKey(r.spec.namespace, r.spec.name)),
    createdAt: r.createdAt,
    ...limitsShown(r.spec),
  };
}


/** The namespace of a delete or scale request: in its body, else (as faas-cli also sends it) in its query. */
function namespaceIn(body: Record<string, unknown>, query: URLSearchParams): string {
  const v = body['namespace'];
  return v === undefined || v === '' ? namespaceQuery(query) : checkNamespace(v);
}

export function functionRoutes(d: FunctionRouteDeps): GatewayRoute[] {
  return [
    route('GET', '/system/functions', ({ query }) => ok(d.store.list(namespaceQuery(query)).map((r) => functionStatus(r, d)))),
    route('GET', '/system/function/{name}', ({ params, query }) => ok(functionStatus(d.store.mustGet(namespaceQuery(query), checkFunctionName(params['name'], 'name (path)')), d))),
    route('POST', '/system/functions', async (req) => {
      const spec = parseDeployment(await req.json());
      checkSecretsExist(d, spec);
      d.store.create(spec, deployReplicas(spec.scaling));
      d.scaler.touch(functionKey(spec.namespace, spec.name));
      void d.replicas.reconcile(functionKey(spec.namespace, spec.name));
      return text('', 202);
    }),
    route('PUT', '/system/functions', async (req) => {
      const spec = parseDeployment(await req.json());
      const old = d.store.mustGet(spec.namespace, spec.name);
      checkSecretsExist(d, spec);
      // A function at zero stays there (its next request brings up the new revision); one running keeps its count within the new bounds.
      const replicas = old.replicas === 0 ? 0 : Math.min(spec.scaling.max, Math.max(old.replicas, spec.scaling.min));
      d.store.update(spec, replicas);
      d.scaler.touch(functionKey(spec.namespace, spec.name));
      void d.replicas.reconcile(functionKey(spec.namespace, spec.name));
      return text('', 200);
    }),
    route('DELETE', '/system/functions', async (req) => {
      const body = await req.json();
      if (!isObject(body)) throw invalidArgument('faas_deployment_invalid', 'delete request: body: not a JSON object ({"functionName": NAME})');
      const name = checkFunctionName(body['functionName'], 'functionName');
      const namespace = namespaceIn(body, req.query);
      const key = functionKey(namespace, name);
      d.store.remove(namespace, name);
      d.metrics.forget(key);
      d.scaler.forget(key);
      await d.replicas.reconcile(key);
      d.logs.forget(namespace, name);
      return text('', 200);
    }),
    route('POST', '/system/scale-function/{name}', async (req) => {
      const { params } = req;
      const name = checkFunctionName(params['name'], 'name (path)');
      const body = await req.json();
      if (!isObject(body)) throw invalidArgument('faas_scale_invalid', 'scale request: body: not a JSON object ({"serviceName": NAME, "replicas": N})');
      const replicas = body['replicas'];
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
        throw invalidArgument('faas_scale_invalid', `scale request: replicas: ${JSON.stringify(replicas)} is not a number of replicas (an integer, 0 or more)`);
      }
      const serviceName = body['serviceName'];
      if (serviceName !== undefined && serviceName !== '' && serviceName !== name) {
        throw invalidArgument('faas_scale_invalid', `scale request: serviceName: ${JSON.stringify(serviceName)} is not the function in the path ("${name}")`);
      }
      const namespace = namespaceIn(body, req.query);
      const rec = d.store.mustGet(namespace, name);
      if (replicas > rec.spec.scaling.max) {
        throw invalidArgument('faas_scale_invalid', `scale request: replicas: ${replicas} is above the function's com.openfaas.scale.max (${rec.spec.scaling.max})`);
      }
      d.store.setReplicas(namespace, name, replicas);
      d.scaler.touch(functionKey(namespace, name));
      void d.replicas.reconcile(functionKey(namespace, name));
      return text('', 202);
    }),
  ];
}
