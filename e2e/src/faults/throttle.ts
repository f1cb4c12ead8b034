/**
 * A cap on the bytes per second each client connection receives, over all the responses it
 * carries: what CDNs in front of registries (ghcr.io, Docker Hub, S3 behind CloudFront) do, and
 * why one large blob over one connection is slow however fast the link.
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Pieces are sent about every 20 ms at the capped rate. */
const PIECES_PER_SECOND = 50;
/** How far behind its schedule a connection may catch up (never more than this in a burst). */
const BURST_MS = 100;

export class ConnectionThrottle {
  #bytesPerSecond: number | undefined;
  /** Per connection, when its next byte may go; time spent idle earns at most BURST_MS. */
  readonly #due = new WeakMap<Socket, number>();

  constructor(bytesPerSecond?: number) {
    this.set(bytesPerSecond);
  }

  set(bytesPerSecond: number | undefined): void {
    if (bytesPerSecond !== undefined && !(bytesPerSecond > 0))
      throw new Error(`throttle: ${bytesPerSecond} is not a rate`);
    this.#bytesPerSecond = bytesPerSecond;
  }

  get active(): boolean {
    return this.#bytesPerSecond !== undefined;
  }

  /** `chunk` cut into pieces small enough to pace smoothly (the whole chunk when uncapped). */
  pieces(chunk: Buffer): Buffer[] {
    const rate = this.#bytesPerSecond;
    if (rate === undefined) return [chunk];
    const step = Math.max(1024, Math.floor(rate / PIECES_PER_SECOND));
    const out: Buffer[] = [];
    for (let at = 0; at < chunk.byteLength; at += step) out.push(chunk.subarray(at, at + step));
    return out;
  }

  /** Waits until `socket` may send `bytes` more without going over the cap. */
  async wait(socket: Socket | null, bytes: number): Promise<void> {
    const rate = this.#bytesPerSecond;
    if (rate === undefined || !socket) return;
    const now = performance.now();
    // A timer that fires late (a loaded machine) may be made up for within a short window, as a
    // token bucket does; otherwise every late wake-up would lower the cap, the more so the more
    // connections share the proxy's one thread.
    const start = Math.max(now - BURST_MS, this.#due.get(socket) ?? now);
    this.#due.set(socket, start + (bytes / rate) * 1000);
    if (start - now >= 1) await sleep(start - now);
  }
}
