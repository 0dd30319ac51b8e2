/**
 * Validation against the official OCI JSON schemas, compiled at build time
 * (scripts/build-schemas.ts) into standalone modules under build/generated/.
 * A bundled command carries them inside its bundle (the build makes them
 * first), so its trained code cache covers them; from the sources they are
 * required from build/generated/. Errors name the field as a path:
 * `process.user.uid: must be integer`. The image-spec's validators are in
 * image-schema.ts, so that a bundle carries only the validators it uses.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { internal } from '../errors.ts';
import { buildDir } from '../paths.ts';

interface SchemaError {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
  keyword: string;
}
type ValidateFn = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };
export type ValidatorModule = Record<string, ValidateFn>;

function generatedDir(): string {
  return join(buildDir(), 'generated');
}

const cache = new Map<string, ValidatorModule>();

declare const BERTH_BUNDLED: boolean | undefined;

/**
 * The validators of `file` when they are carried in the bundle: a
 * require() of a literal path, which the bundler follows, in the module
 * that uses them (a require here would put every validator in every bundle).
 */
export type BundledValidators = () => ValidatorModule;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a literal path for the bundler; never reached from the sources
const bundledRuntimeValidators: BundledValidators = () => require('../../build/generated/runtime-spec-schema.cjs') as ValidatorModule;

/** The validators are CommonJS: require() loads them without the ESM loader's cost. */
function load(file: string, bundled: BundledValidators): ValidatorModule {
  let mod = cache.get(file) ?? (typeof BERTH_BUNDLED !== 'undefined' && BERTH_BUNDLED ? bundled() : undefined);
  if (!mod) {
    const path = join(generatedDir(), file);
    try {
      mod = createRequire(path)(path) as Record<string, ValidateFn>;
    } catch (err) {
      throw internal('schema_missing', `OCI schema validators missing (${path}): run scripts/install.sh`, { cause: err });
    }
    cache.set(file, mod);
  }
  return mod;
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

// Async for the callers' sake: a future validator may need to load asynchronously.
// eslint-disable-next-line @typescript-eslint/require-await
export async function validateWith(file: string, bundled: BundledValidators, name: string, data: unknown, prefix: string): Promise<string[]> {
  const mod = load(file, bundled);
  const fn = mod[name];
  if (!fn) throw internal('schema_missing', `OCI schema validator ${name} missing from ${file}`);
  return fn(data) ? [] : describe(fn.errors ?? [], prefix);
}

/** Problems of a runtime config.json by the runtime-spec schema (empty when valid). */
export function validateRuntimeConfig(data: unknown): Promise<string[]> {
  return validateWith('runtime-spec-schema.cjs', bundledRuntimeValidators, 'validateConfig', data, '');
}

export function validateRuntimeState(data: unknown): Promise<string[]> {
  return validateWith('runtime-spec-schema.cjs', bundledRuntimeValidators, 'validateState', data, '');
}
