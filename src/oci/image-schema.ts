/**
 * Validation of image-spec documents against the official OCI schemas, in
 * a module of its own (schema.ts has the loader and the runtime-spec's): a
 * bundle that only validates config.json, berth-runtime's, then does not
 * carry the image-spec's validators.
 */
import { validateWith, type BundledValidators, type ValidatorModule } from './schema.ts';

export type ImageSchema = 'validateManifest' | 'validateIndex' | 'validateImageConfig' | 'validateDescriptor' | 'validateLayout';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a literal path for the bundler; never reached from the sources
const bundledImageValidators: BundledValidators = () => require('../../build/generated/image-spec-schema.cjs') as ValidatorModule;

/** Problems of an image-spec document (manifest, index, config, descriptor, oci-layout). */
export function validateImageDocument(kind: ImageSchema, data: unknown, prefix = ''): Promise<string[]> {
  return validateWith('image-spec-schema.cjs', bundledImageValidators, kind, data, prefix);
}
