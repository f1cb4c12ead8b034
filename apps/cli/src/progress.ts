/**
 * Progress bars on stderr, one per blob in flight (name, bytes, speed), redrawn in place below
 * everything else. Only when stderr is a terminal and --no-tty was not given; otherwise every
 * call is a no-op and results alone reach stdout.
 *
 * The bars own the last lines of the screen: anything else printed while they are shown (status
 * lines, warnings) goes through printAboveBars (screen.ts), which erases the bars, prints the line and
 * draws them again below it. Printing around them instead would leave a stale bar on the screen
 * and draw the next one over the line just printed.
 */
import type { Descriptor } from '@ferry/oci';
import { describe } from './output.js';
import { escapeTerminal } from './terminal-text.js';
import { bottomLines, setBottomLines, type BottomLines } from './screen.js';

interface Bar {
  name: string;
  total: number;
  done: number;
  started: number;
}

/** Erase from the cursor to the end of the screen. */
const ERASE_BELOW = '\x1b[J';
/** Room for `12.00 MiB/32.00 MiB 11.09 MiB/s  38%` (larger numbers push the line right). */
const STATS_WIDTH = 36;
/** The name column a bar leaves room for before it shrinks the bar. */
const NAME_WIDTH = 24;
/** How often bars are redrawn: often enough to move during a one-second transfer. */
const REDRAW_MS = 100;

export class Progress implements BottomLines {
  readonly enabled: boolean;
  readonly #write: (text: string) => void;
  readonly #columns: () => number;
  readonly #bars = new Map<string, Bar>();
  /** Lines of bars on the screen now, each ended by a newline: the cursor is below them. */
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    enabled: boolean,
    write: (text: string) => void = (t) => void process.stderr.write(t),
    columns: () => number = () => process.stderr.columns || 80,
  ) {
    this.enabled = enabled;
    this.#write = write;
    this.#columns = columns;
  }

  static forTerminal(tty: boolean | undefined): Progress {
    return new Progress(tty !== false && process.stderr.isTTY === true);
  }

  start(descriptor: Descriptor, verb: string): void {
    this.startNamed(descriptor.digest, `${verb} ${describe(descriptor)}`, descriptor.size);
  }

  /** A bar under any key (a file name, when the digest is not the handle events carry). */
  startNamed(key: string, name: string, total: number): void {
    if (!this.enabled) return;
    setBottomLines(this);
    // Drawn straight to stderr (its own escape codes move the cursor): escape the name here.
    this.#bars.set(key, { name: escapeTerminal(name), total, done: 0, started: Date.now() });
    this.#timer ??= setInterval(() => this.#redraw(), REDRAW_MS).unref();
  }

  advance(descriptor: Descriptor, bytes: number): void {
    this.advanceNamed(descriptor.digest, bytes);
  }

  advanceNamed(key: string, bytes: number): void {
    const bar = this.#bars.get(key);
    if (bar) bar.done += bytes;
  }

  finish(descriptor: Descriptor): void {
    this.finishNamed(descriptor.digest);
  }

  finishNamed(key: string): void {
    if (!this.enabled || !this.#bars.delete(key)) return;
    this.#redraw();
  }

  /** Erases the bars, prints `text`, and draws the bars again under it. */
  above(write: (text: string) => void, text: string): void {
    if (!this.enabled || this.#drawn === 0) {
      write(text);
      return;
    }
    this.#write(this.#erase());
    this.#drawn = 0;
    write(text);
    this.#redraw();
  }

  /** Removes every bar from the screen; the cursor is left where the first bar was. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#bars.clear();
    if (bottomLines() === this) setBottomLines(undefined);
    if (this.enabled && this.#drawn > 0) this.#write(this.#erase());
    this.#drawn = 0;
  }

  /** Up to the first bar, to its start, and erase everything from there down. */
  #erase(): string {
    return this.#drawn ? `\x1b[${this.#drawn}A\r${ERASE_BELOW}` : '';
  }

  #redraw(): void {
    // One column short of the width: a line that fills it makes some terminals wrap early,
    // and a wrapped bar would throw off the count of lines to move up over.
    const width = Math.max(20, this.#columns() - 1);
    const lines = [...this.#bars.values()].map((bar) => formatBar(bar, width));
    if (lines.length === 0 && this.#drawn === 0) return;
    const out = this.#erase() + lines.map((line) => `${line}\n`).join('');
    this.#drawn = lines.length;
    this.#write(out);
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

/** One bar, never longer than `width` (names are shortened with …, then the bar dropped). */
export function formatBar(bar: Bar, width: number): string {
  const seconds = Math.max(0.001, (Date.now() - bar.started) / 1000);
  const ratio = bar.total > 0 ? Math.min(1, bar.done / bar.total) : 1;
  // Right-aligned in a column of steady width, so the bar does not jitter as the numbers change.
  const stats =
    `${formatBytes(bar.done)}/${formatBytes(bar.total)} ${formatBytes(bar.done / seconds)}/s ${(ratio * 100).toFixed(0).padStart(3)}%`.padStart(
      width >= 70 ? STATS_WIDTH : 0,
    );
  const room = width - stats.length - 1; // for the name and ` [bar]`
  // Every bar has the same width and starts in the same column: names are padded (or cut) to
  // the room left, so the bars of several blobs line up.
  const barWidth = room >= 24 ? Math.max(10, Math.min(30, room - NAME_WIDTH - 3)) : 0;
  const nameRoom = Math.max(2, barWidth ? room - barWidth - 3 : room);
  const name =
    bar.name.length > nameRoom
      ? `${bar.name.slice(0, nameRoom - 1)}…`
      : bar.name.padEnd(barWidth ? nameRoom : 0);
  const filled = Math.round(ratio * barWidth);
  const line = barWidth
    ? `${name} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${stats}`
    : `${name} ${stats}`;
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}
