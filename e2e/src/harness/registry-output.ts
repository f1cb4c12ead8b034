import { randomUUID } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** How often `log` is handed new lines. */
const FOLLOW_EVERY_MS = 200;

/**
 * Where a registry started from a binary writes its output: a file, not a pipe. A pipe is drained
 * only while this process's event loop runs; a caller blocked in spawnSync let it fill after about
 * a hundred logged 404s (~210 KB of socket buffer), and the registry's logger then blocked in
 * write(2) holding its lock, so every request that logs hung (BENCHMARKS.md run J's "second push
 * hangs"). The file never blocks the registry; `log` gets its lines by following the file.
 */
export class RegistryOutputFile {
  readonly path: string;
  readonly fd: number;
  #offset = 0;
  #partial = '';
  // A character may straddle two reads.
  readonly #decoder = new StringDecoder('utf8');
  #timer: NodeJS.Timeout | undefined;

  constructor(
    workDir: string,
    private readonly log?: (s: string) => void,
  ) {
    this.path = join(workDir, `registry-${randomUUID()}.log`);
    this.fd = openSync(this.path, 'a+');
    // unref: following the log must never keep a test process alive.
    if (log) this.#timer = setInterval(() => this.follow(), FOLLOW_EVERY_MS).unref();
  }

  /**
   * Hands complete new lines to `log` (a timer calls this); the last, unterminated one waits for
   * its newline unless `final`.
   */
  follow(final = false): void {
    if (!this.log) return;
    const chunk = Buffer.alloc(64 * 1024);
    let text = '';
    for (;;) {
      const n = readSync(this.fd, chunk, 0, chunk.length, this.#offset);
      if (n === 0) break;
      this.#offset += n;
      text += this.#decoder.write(chunk.subarray(0, n));
    }
    if (final) text += this.#decoder.end();
    const lines = (this.#partial + text).split('\n');
    this.#partial = final ? '' : (lines.pop() ?? '');
    for (const line of lines) if (line.trim()) this.log(`[registry] ${line}`);
  }

  /** The registry has exited: forwards what is left and stops following. */
  finish(): void {
    clearInterval(this.#timer);
    this.follow(true);
  }

  /** The last lines the registry wrote (at most the last 16 KiB of the file). */
  tail(lines = 40): string {
    const size = fstatSync(this.fd).size;
    const length = Math.min(size, 16_384);
    const buffer = Buffer.alloc(length);
    readSync(this.fd, buffer, 0, length, size - length);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n').trim();
  }

  close(): void {
    clearInterval(this.#timer);
    closeSync(this.fd);
  }
}
