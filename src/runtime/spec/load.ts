/**
 * Reading a bundle: config.json parsed, validated by the official schema,
 * then by the runtime's own rules; every problem is reported at once.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { describeError, errnoCode, invalidArgument, notFound } from '../../errors.ts';
import { validateRuntimeConfig } from '../../oci/schema.ts';
import type { Spec } from '../../oci/runtime-spec.ts';
import { semanticProblems } from './validate.ts';
import { mark } from '../../trace.ts';

export interface Bundle {
  /** Absolute bundle directory. */
  dir: string;
  spec: Spec;
  /** Absolute, symlink-free path of the root filesystem. */
  rootfs: string;
}

export async function parseSpec(text: string, source: string): Promise<Spec> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw invalidArgument('config_json', `${source}: not valid JSON: ${describeError(err)}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw invalidArgument('config_json', `${source}: must be a JSON object`);
  }
  const problems = await validateRuntimeConfig(data);
  mark('load: schema checked');
  if (problems.length > 0) {
    throw invalidArgument('config_invalid', `${source}: ${problems.join('; ')}`, { details: { problems } });
  }
  return data as Spec;
}

export async function loadBundle(bundleDir: string): Promise<Bundle> {
  const dir = resolve(bundleDir);
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw notFound('bundle_config_missing', `bundle "${dir}": config.json not found`);
    throw invalidArgument('bundle_config_unreadable', `bundle "${dir}": cannot read config.json: ${describeError(err)}`, { cause: err });
  }
  const spec = await parseSpec(text, file);
  const problems = semanticProblems(spec, { requireProcess: true });
  if (problems.length > 0) {
    throw invalidArgument('config_invalid', `${file}: ${problems.join('; ')}`, { details: { problems } });
  }
  const rootPath = spec.root?.path ?? '';
  const rootAbs = isAbsolute(rootPath) ? rootPath : join(dir, rootPath);
  let rootfs: string;
  try {
    rootfs = realpathSync(rootAbs);
  } catch (err) {
    throw invalidArgument('rootfs_missing', `${file}: root.path: "${rootAbs}" is not a directory: ${describeError(err)}`, { cause: err });
  }
  if (!statSync(rootfs).isDirectory()) throw invalidArgument('rootfs_missing', `${file}: root.path: "${rootAbs}" is not a directory`);
  return { dir, spec, rootfs };
}
