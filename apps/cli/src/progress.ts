/**
 * Progress bars on stderr, one per blob in flight (name, bytes, speed), redrawn in place. Only
 * when stderr is a terminal and --no-tty was not given; otherwise every call is a no-op and
 * results alone reach stdout.
 */
import type { Descriptor } from '@ferry/oci';
import { describe } from './output.js';
import { escapeTerminal } from './terminal-text.js';

interface Bar {
  name: string;
  total: number;
  done: number;
  started: number;
}

export class Progress {
  readonly enabled: boolean;
  readonly #write: (text: string) => void;
  readonly #bars = new Map<string, Bar>();
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    enabled: boolean,
    write: (text: string) => void = (t) => void process.stderr.write(t),
  ) {
    this.enabled = enabled;
    this.#write = write;
  }

  static forTerminal(tty: boolean | undefined): Progress {
    return new Progress(tty !== false && process.stderr.isTTY === true);
  }

  start(descriptor: Descriptor, verb: string): void {
    if (!this.enabled) return;
    this.#bars.set(descriptor.digest, {
      // Drawn straight to stderr (its own escape codes move the cursor): escape the name here.
      name: escapeTerminal(`${verb} ${describe(descriptor)}`),
      total: descriptor.size,
      done: 0,
      started: Date.now(),
    });
    this.#timer ??= setInterval(() => this.#draw(), 120).unref();
  }

  advance(descriptor: Descriptor, bytes: number): void {
    const bar = this.#bars.get(descriptor.digest);
    if (bar) bar.done += bytes;
  }

  finish(descriptor: Descriptor): void {
    if (!this.enabled) return;
    this.#bars.delete(descriptor.digest);
    this.#draw();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#bars.clear();
    if (this.enabled) this.#draw();
  }

  #draw(): void {
    const width = Math.max(40, (process.stderr.columns || 100) - 1);
    let out = this.#drawn ? `\x1b[${this.#drawn}A` : '';
    const lines = [...this.#bars.values()].map((bar) => formatBar(bar, width));
    for (const line of lines) out += `\x1b[2K${line}\n`;
    // Clear lines left over from bars that finished.
    for (let i = lines.length; i < this.#drawn; i++) out += '\x1b[2K\n';
    if (this.#drawn > lines.length) out += `\x1b[${this.#drawn - lines.length}A`;
    this.#drawn = lines.length;
    if (out) this.#write(out);
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(2)} ${units[unit]}`;
}

export function formatBar(bar: Bar, width: number): string {
  const seconds = Math.max(0.001, (Date.now() - bar.started) / 1000);
  const ratio = bar.total > 0 ? Math.min(1, bar.done / bar.total) : 1;
  const stats = `${formatBytes(bar.done)}/${formatBytes(bar.total)} ${formatBytes(bar.done / seconds)}/s ${(ratio * 100).toFixed(0).padStart(3)}%`;
  const barWidth = Math.max(10, Math.min(30, width - stats.length - bar.name.length - 4));
  const filled = Math.round(ratio * barWidth);
  const name =
    bar.name.length > width - stats.length - barWidth - 4
      ? `${bar.name.slice(0, Math.max(8, width - stats.length - barWidth - 5))}…`
      : bar.name;
  return `${name} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${stats}`;
}
