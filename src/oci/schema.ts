/**
 * Validation against the official OCI JSON schemas, compiled at build time
 * (scripts/build-schemas.ts) into standalone modules under build/generated/.
 * Errors name the field as a path: `process.user.uid: must be integer`.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { internal } from '../errors.ts';
import { buildDir } from '../paths.ts';

interface SchemaError {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
  keyword: string;
}
type ValidateFn = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

function generatedDir(): string {
  return join(buildDir(), 'generated');
}

const cache = new Map<string, Promise<Record<string, ValidateFn>>>();

async function load(file: string): Promise<Record<string, ValidateFn>> {
  let p = cache.get(file);
  if (!p) {
    const path = join(generatedDir(), file);
    p = (import(pathToFileURL(path).href) as Promise<Record<string, ValidateFn>>).catch((err: unknown) => {
      throw internal('schema_missing', `OCI schema validators missing (${path}): run scripts/install.sh`, { cause: err });
    });
    cache.set(file, p);
  }
  return p;
}

/** "/mounts/0/destination" → "mounts[0].destination". */
export function fieldPath(instancePath: string, prefix = ''): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = prefix;
  for (const part of parts) {
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out || '(root)';
}

function describe(errors: SchemaError[], prefix: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of errors) {
    let field = fieldPath(e.instancePath, prefix);
    let msg = e.message ?? e.keyword;
    if (e.keyword === 'required' && typeof e.params?.['missingProperty'] === 'string') {
      field = fieldPath(`${e.instancePath}/${e.params['missingProperty']}`, prefix);
      msg = 'is required';
    } else if (e.keyword === 'enum' && Array.isArray(e.params?.['allowedValues'])) {
      msg = `must be one of ${(e.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    }
    const line = `${field}: ${msg}`;
    if (!seen.has(line)) {
      seen.add(line);
      out.push(line);
    }
  }
  return out;
}

async function validateWith(file: string, name: string, data: unknown, prefix: string): Promise<string[]> {
  const mod = await load(file);
  const fn = mod[name];
  if (!fn) throw internal('schema_missing', `OCI schema validator ${name} missing from ${file}`);
  return fn(data) ? [] : describe(fn.errors ?? [], prefix);
}

/** Problems of a runtime config.json by the runtime-spec schema (empty when valid). */
export function validateRuntimeConfig(data: unknown): Promise<string[]> {
  return validateWith('runtime-spec-schema.mjs', 'validateConfig', data, '');
}

export function validateRuntimeState(data: unknown): Promise<string[]> {
  return validateWith('runtime-spec-schema.mjs', 'validateState', data, '');
}

export type ImageSchema = 'validateManifest' | 'validateIndex' | 'validateImageConfig' | 'validateDescriptor' | 'validateLayout';

/** Problems of an image-spec document (manifest, index, config, descriptor, oci-layout). */
export function validateImageDocument(kind: ImageSchema, data: unknown, prefix = ''): Promise<string[]> {
  return validateWith('image-spec-schema.mjs', kind, data, prefix);
}
