/**
 * Function namespaces. A function is (namespace, name), as in the store;
 * the gateway's in-memory state (replicas, scaler, metrics) is keyed by one
 * string, its key: the name alone in the default namespace, NAME.NAMESPACE
 * in another, which is how OpenFaaS names a function in a URL
 * (`/function/NAME.NAMESPACE`) and in its metrics. A name is a DNS label,
 * without ".", so a key splits back one way only.
 */
import { checkNamespace, DEFAULT_NAMESPACE } from './deployment.ts';

export function functionKey(namespace: string, name: string): string {
  return namespace === DEFAULT_NAMESPACE ? name : `${name}.${namespace}`;
}

export function splitFunctionKey(key: string, defaultNamespace = DEFAULT_NAMESPACE): { namespace: string; name: string } {
  const dot = key.indexOf('.');
  return dot < 0 ? { namespace: defaultNamespace, name: key } : { namespace: key.slice(dot + 1), name: key.slice(0, dot) };
}

/**
 * The function `/function/NAME[.NAMESPACE]` invokes, as its key. A bad
 * namespace is refused naming it; a bad name is left to the lookup (404:
 * no function has it).
 */
export function invokedKey(segment: string): string {
  const dot = segment.indexOf('.');
  if (dot < 0) return segment;
  return functionKey(checkNamespace(segment.slice(dot + 1), 'namespace (path)'), segment.slice(0, dot));
}

/** `?namespace=` of a /system/* request: the default when absent, else checked as deployments check it (400 naming it). */
export function namespaceQuery(query: URLSearchParams): string {
  return checkNamespace(query.get('namespace') ?? undefined, 'namespace (query)');
}
