/**
 * What a build reports while it runs (libraries never print: the command
 * line renders these). A RUN's output arrives as `output` events, as the
 * container writes it.
 */
import type { SourceLocation } from './errors.ts';

export type BuildEvent =
  | { type: 'step'; step: number; total: number; stage: number; stageName: string | undefined; text: string; loc: SourceLocation }
  | { type: 'cached'; key: string }
  | { type: 'run'; container: string }
  | { type: 'output'; stream: 'stdout' | 'stderr'; data: Buffer }
  | { type: 'layer'; digest: string; diffId: string; size: number }
  | { type: 'pull'; image: string }
  | { type: 'warning'; message: string }
  | { type: 'commit'; names: string[] };

export type BuildEventSink = (event: BuildEvent) => void;
