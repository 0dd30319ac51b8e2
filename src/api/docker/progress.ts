/**
 * Docker's JSON message streams (pull, push, load, build): one JSON object
 * a line, written as the work goes, not at its end. A failure before the
 * first message is an ordinary error reply (its status, `{"message"}`), as
 * dockerd answers a pull of an unknown image; a failure after it can only
 * be the stream's last message, `{"errorDetail":{"message"},"error"}`.
 * The translators turn the image library's progress events into the
 * messages the docker CLI draws (per-layer status, progress bars).
 */
import { describeError, isBerthError } from '../../errors.ts';
import { humanSize } from '../../go-units.ts';
import type { ProgressEvent, ProgressSink } from '../../image/progress/events.ts';
import { stream, type Reply } from '../reply.ts';

export type JsonMessage = Record<string, unknown>;
export type Emit = (message: JsonMessage) => void;

/** Docker's error message; a failed RUN carries its exit code, as dockerd's does. */
export function errorMessage(err: unknown): JsonMessage {
  const message = describeError(err);
  const code = isBerthError(err) ? err.details['exitCode'] : undefined;
  return { errorDetail: typeof code === 'number' ? { code, message } : { message }, error: message };
}

/**
 * Runs `work`, answering once it has said something (a stream of what it
 * says, as it says it) or has finished without a word (an empty stream; its
 * error, thrown). The work goes on when the client leaves: what it writes
 * to the store is made visible only when whole, so nothing is left half.
 */
export async function messageStream(work: (emit: Emit) => Promise<void>, onOrphanError?: (err: unknown) => void): Promise<Reply> {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failed = false;
  let failure: unknown;
  let consumer = true;
  let started!: () => void;
  const first = new Promise<void>((resolve) => (started = resolve));
  const emit: Emit = (m) => {
    queue.push(`${JSON.stringify(m)}\n`);
    started();
    wake?.();
  };
  void work(emit).then(
    () => undefined,
    (err: unknown) => {
      failed = true;
      failure = err;
      if (!consumer) onOrphanError?.(err);
    },
  ).finally(() => {
    finished = true;
    started();
    wake?.();
  });
  await first;
  if (queue.length === 0 && failed) throw failure;
  async function* lines(): AsyncGenerator<string> {
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (finished) {
          if (failed) yield `${JSON.stringify(errorMessage(failure))}\n`;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      consumer = false;
      queue.length = 0;
    }
  }
  return stream(lines());
}

/** Docker's progress bar text (its JSONProgress at the daemon's default width): `[=====>      ]  1.2MB/3.4MB`. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return humanSize(current).padStart(8);
  const filled = Math.min(50, Math.floor((50 * current) / total));
  return `[${'='.repeat(filled)}>${' '.repeat(50 - filled)}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

const shortId = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

interface Transfer {
  current: number;
  total: number;
  shown: number;
}

/**
 * Per-layer messages of a transfer: `startWord` when it begins, `moving`
 * with progressDetail as bytes arrive (at most every percent or MiB, so a
 * large layer is not thousands of lines), `doneWords` when complete.
 */
function transferSink(emit: Emit, words: { start: string; moving: string; done: string[]; exists: string; mounted: string }): ProgressSink {
  const transfers = new Map<string, Transfer>();
  return (e: ProgressEvent) => {
    switch (e.type) {
      case 'blob-start':
        if (e.kind !== 'layer') return;
        transfers.set(e.digest, { current: 0, total: e.size, shown: 0 });
        emit({ status: words.start, progressDetail: {}, id: shortId(e.digest) });
        return;
      case 'blob-skip':
        if (e.kind !== 'layer') return;
        emit({ status: e.reason === 'exists' ? words.exists : words.mounted, progressDetail: {}, id: shortId(e.digest) });
        return;
      case 'blob-progress': {
        const t = transfers.get(e.digest);
        if (t === undefined) return;
        t.current += e.bytes;
        if (t.current - t.shown < Math.min(1 << 20, Math.max(1, t.total / 100)) && t.current < t.total) return;
        t.shown = t.current;
        emit({ status: words.moving, progressDetail: { current: t.current, total: t.total }, progress: progressBar(t.current, t.total), id: shortId(e.digest) });
        return;
      }
      case 'blob-done':
        if (!transfers.delete(e.digest)) return;
        for (const status of words.done) emit({ status, progressDetail: {}, id: shortId(e.digest) });
        return;
      case 'retry':
        emit({ status: `Retrying (attempt ${e.attempt}): ${e.message}`, progressDetail: {} });
        return;
      default:
        return;
    }
  };
}

/** A pull's messages: "Pulling from REPO" once the manifest is known, then each layer's. */
export function pullProgress(emit: Emit, repoPath: string, tagOrDigest: string): ProgressSink {
  const layers = transferSink(emit, { start: 'Pulling fs layer', moving: 'Downloading', done: ['Download complete', 'Pull complete'], exists: 'Already exists', mounted: 'Already exists' });
  return (e) => {
    if (e.type === 'resolved') emit({ status: `Pulling from ${repoPath}`, id: tagOrDigest });
    else layers(e);
  };
}

/** A push's messages: each layer's, as dockerd words them. */
export function pushProgress(emit: Emit): ProgressSink {
  return transferSink(emit, { start: 'Preparing', moving: 'Pushing', done: ['Pushed'], exists: 'Layer already exists', mounted: 'Mounted from another repository' });
}
