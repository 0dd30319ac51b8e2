/** A promise of a timer: node:timers/promises loads the stream machinery with it, on every command's path. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
