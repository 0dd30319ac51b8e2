/** Signals this process receives while a foreground container runs go to the container. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Where a command's signals come from: this process's, or those a resident's front passes on. */
export interface SignalSource {
  on(signal: NodeJS.Signals, handler: () => void): unknown;
  off(signal: NodeJS.Signals, handler: () => void): unknown;
}

export function forwardSignals(pid: number, source: SignalSource = process): () => void {
  const handlers = FORWARDED.map((sig) => {
    const h = (): void => {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    };
    source.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) source.off(sig, h);
  };
}

/** The exit code of a foreground container from its executor's exit. */
export function exitCode(status: { code: number | null; signal: NodeJS.Signals | null }): number {
  if (status.code !== null) return status.code;
  return 128 + (status.signal ? ({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[status.signal] ?? 1 : 1);
}
