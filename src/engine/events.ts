/**
 * The engine's events in Docker's shape (`GET /events`, `berth events`):
 * each change a container or volume goes through, published after the
 * change is durable. The last MAX_KEPT are kept for `--since`; listeners
 * get the new ones as they happen.
 */
import { EventEmitter } from 'node:events';

export interface EngineEvent {
  Type: 'container' | 'volume' | 'image' | 'network';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** Docker's older fields, still read by clients. */
  status?: string;
  id?: string;
  from?: string;
}

const MAX_KEPT = 1024;

export class EngineEvents {
  private readonly kept: EngineEvent[] = [];
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    const nanos = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    const event: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nanos / 1_000_000_000n),
      timeNano: Number(nanos),
      ...(type === 'container' ? { status: action, id, ...(attributes['image'] === undefined ? {} : { from: attributes['image'] }) } : {}),
    };
    this.kept.push(event);
    if (this.kept.length > MAX_KEPT) this.kept.splice(0, this.kept.length - MAX_KEPT);
    this.emitter.emit('event', event);
    return event;
  }

  /** The kept events at or after `sinceNano`. */
  since(sinceNano: number): EngineEvent[] {
    return this.kept.filter((e) => e.timeNano >= sinceNano);
  }

  subscribe(listener: (e: EngineEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
