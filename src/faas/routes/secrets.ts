/**
 * `/system/secrets` with OpenFaaS's shapes and status codes
 * (api-docs/spec.openapi.yml): GET lists SecretDescriptions (names, never
 * values), POST creates (201; 409 when the name is taken), PUT replaces a
 * value (200; 404 when unknown), DELETE removes (204; 404 when unknown; 409
 * naming the functions deployed with it, which would not start again
 * without it). A Secret body is `{name, namespace?, value}` or
 * `{name, namespace?, rawValue}` (base64, for binary values).
 */
import { namespaceQuery } from '../namespaces.ts';
import { failedPrecondition, invalidArgument } from '../../errors.ts';
import { isObject } from '../../json-object.ts';
import { checkNamespace } from '../deployment.ts';
import { checkSecretName, MAX_SECRET_BYTES, type SecretStore } from '../secrets.ts';
import type { FunctionStore } from '../store.ts';
import { ok, route, text, type GatewayRoute } from './types.ts';

export interface SecretRouteDeps {
  secrets: SecretStore;
  /** The functions of a namespace deployed with a secret. */
  usedBy(namespace: string, secret: string): string[];
}

const FIELDS = new Set(['name', 'namespace', 'value', 'rawValue']);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function bad(field: string, why: string): never {
  throw invalidArgument('faas_secret_invalid', `secret: ${field}: ${why}`);
}

/** The name and namespace of a Secret or SecretDescription body. */
function secretRef(body: unknown): { name: string; namespace: string; body: Record<string, unknown> } {
  if (!isObject(body)) bad('body', 'not a JSON object (a Secret: {"name": NAME, "value": VALUE})');
  for (const k of Object.keys(body)) if (!FIELDS.has(k)) bad(k, 'unknown field');
  return { name: checkSecretName(body['name']), namespace: checkNamespace(body['namespace']), body };
}

/** A Secret's value: value, or (as OpenFaaS, when value is omitted) rawValue in base64. */
function secretValue(body: Record<string, unknown>): Buffer {
  const value = body['value'];
  const raw = body['rawValue'];
  if (value !== undefined && value !== null && typeof value !== 'string') bad('value', 'not a string');
  if (raw !== undefined && raw !== null && typeof raw !== 'string') bad('rawValue', 'not a base64 string');
  let field: string;
  let bytes: Buffer;
  if (typeof value === 'string' && value !== '') {
    field = 'value';
    bytes = Buffer.from(value, 'utf8');
  } else if (typeof raw === 'string' && raw !== '') {
    if (!BASE64.test(raw)) bad('rawValue', 'not base64 (standard alphabet, padded)');
    field = 'rawValue';
    bytes = Buffer.from(raw, 'base64');
  } else bad('value', 'a value is required (value, or rawValue in base64)');
  if (bytes.length > MAX_SECRET_BYTES) bad(field, `larger than ${MAX_SECRET_BYTES} bytes`);
  return bytes;
}

/** The functions of a namespace deployed with a secret, by name. */
export function secretUsers(store: FunctionStore, namespace: string, secret: string): string[] {
  return store.list(namespace).filter((r) => r.spec.secrets.includes(secret)).map((r) => r.spec.name);
}

export function secretRoutes(d: SecretRouteDeps): GatewayRoute[] {
  return [
    route('GET', '/system/secrets', ({ query }) => {
      const namespace = namespaceQuery(query);
      return ok(d.secrets.list(namespace).map((name) => ({ name, namespace })));
    }),
    route('POST', '/system/secrets', async (req) => {
      const s = secretRef(await req.json());
      d.secrets.create(s.namespace, s.name, secretValue(s.body));
      return text('', 201);
    }),
    route('PUT', '/system/secrets', async (req) => {
      const s = secretRef(await req.json());
      d.secrets.update(s.namespace, s.name, secretValue(s.body));
      return text('', 200);
    }),
    route('DELETE', '/system/secrets', async (req) => {
      const s = secretRef(await req.json());
      if (!d.secrets.exists(s.namespace, s.name)) throw d.secrets.missing(s.namespace, s.name);
      const users = d.usedBy(s.namespace, s.name);
      if (users.length > 0) {
        throw failedPrecondition('faas_secret_in_use', `secret "${s.name}": in use by function${users.length > 1 ? 's' : ''} ${users.map((u) => `"${u}"`).join(', ')} in namespace ${s.namespace}; remove or update ${users.length > 1 ? 'them' : 'it'} first`);
      }
      d.secrets.remove(s.namespace, s.name);
      return text('', 204);
    }),
  ];
}
