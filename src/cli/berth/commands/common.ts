/**
 * Helpers shared by the image verbs: turning what users type into transport
 * references (a bare name means the store for local verbs, the registry for
 * pull and push), and running a copy with progress shown.
 */
import { failedPrecondition } from '../../../errors.ts';
import { parsePlatform } from '../../../image/registry/platform.ts';
import { parseReference, type ImageReference } from '../../../image/registry/reference.ts';
import { copyImage, type CopyResult } from '../../../image/copy/copy.ts';
import { openDestination, openSource, repoDigestsFor } from '../../../image/transport/open.ts';
import { parseTransport, type TransportRef } from '../../../image/transport/parse.ts';
import type { Platform } from '../../../oci/image-spec.ts';
import type { CommandContext } from '../context.ts';
import { progressView } from '../progress.ts';

/** "docker://x" or a bare name → a registry reference; other transports are refused. */
export function registryReference(ctx: CommandContext, input: string): ImageReference {
  const name = input.startsWith('docker://') ? input.slice('docker://'.length) : input;
  const ref = parseReference(name, ctx.defaults);
  if (ref.implicitDomain && ctx.defaults.registry === undefined) {
    throw failedPrecondition(
      'no_default_registry',
      `image "${input}": no registry given and no default registry configured (name one, e.g. 127.0.0.1:5000/${ref.path}, or set BERTH_DEFAULT_REGISTRY)`,
    );
  }
  return ref;
}

/** The --platform flag's value, parsed. */
export function platformOption(value: string | undefined): Platform | undefined {
  return value === undefined ? undefined : parsePlatform(value);
}

export async function runCopy(
  ctx: CommandContext,
  from: TransportRef,
  to: TransportRef,
  options: { platform?: Platform; chunkSize?: number; all?: boolean } = {},
): Promise<CopyResult> {
  const transports = ctx.transports(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize });
  const src = await openSource(from, transports);
  try {
    const repoDigests = repoDigestsFor(from);
    const dst = await openDestination(to, transports, repoDigests === undefined ? {} : { repoDigests });
    const view = progressView(ctx.stderr, ctx.globals.quiet);
    try {
      return await copyImage(src, dst, {
        progress: view.sink,
        ...(options.platform === undefined ? {} : { platform: options.platform }),
        ...(options.all === true ? { all: true } : {}),
      });
    } finally {
      view.finish();
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

export function transportOf(ctx: CommandContext, input: string): TransportRef {
  return parseTransport(input, ctx.defaults);
}

export const PLATFORM_FLAG = { name: 'platform', type: 'string', value: 'OS/ARCH[/VARIANT]', help: 'the image of this platform (default: this host\'s)' } as const;
export const CHUNK_FLAG = { name: 'upload-chunk-size', type: 'int', value: 'BYTES', help: 'upload blobs in chunks of this size' } as const;
