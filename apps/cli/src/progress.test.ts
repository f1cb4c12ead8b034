import { describe, expect, it, vi } from 'vitest';
import { formatBar, formatBytes, Progress } from './progress.js';
import { printAboveBars } from './screen.js';

const blob = {
  mediaType: 'application/octet-stream',
  digest: `sha256:${'a'.repeat(64)}`,
  size: 10 * 1024 * 1024,
  annotations: { 'org.opencontainers.image.title': 'weights.bin' },
} as const;

describe('progress', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.00 GiB');
  });

  it('draws a bar with the name, bytes done of total, speed and percentage', () => {
    vi.useFakeTimers({ now: 10_000 });
    const line = formatBar(
      {
        name: 'Uploading weights.bin',
        total: 10 * 1024 * 1024,
        done: 5 * 1024 * 1024,
        started: 8_000,
      },
      100,
    );
    expect(line).toMatch(
      /^Uploading weights\.bin +\[#+\.+\] +5\.00 MiB\/10\.00 MiB 2\.50 MiB\/s +50%$/,
    );
    expect(line.length).toBeLessThanOrEqual(100);
    vi.useRealTimers();
  });

  it('writes nothing when disabled (not a terminal, or --no-tty)', () => {
    const written: string[] = [];
    const progress = new Progress(false, (text) => written.push(text));
    progress.start(blob, 'Uploading');
    progress.advance(blob, 1024);
    progress.finish(blob);
    progress.stop();
    expect(written).toEqual([]);
    expect(Progress.forTerminal(false).enabled).toBe(false);
  });

  it('redraws bars in place and clears them when done', () => {
    vi.useFakeTimers();
    const written: string[] = [];
    const progress = new Progress(true, (text) => written.push(text));
    progress.start(blob, 'Uploading');
    progress.advance(blob, 4 * 1024 * 1024);
    vi.advanceTimersByTime(130);
    expect(written.at(-1)).toContain('Uploading weights.bin');
    expect(written.at(-1)).toContain('4.00 MiB/10.00 MiB');
    vi.advanceTimersByTime(130);
    expect(written.at(-1)?.startsWith('\u001b[1A')).toBe(true); // moved up over the previous drawing
    progress.finish(blob);
    progress.stop();
    expect(written.at(-1)).not.toContain('weights.bin');
    vi.useRealTimers();
  });

  it('prints a status line above the bars: erase them, print, draw them again below', () => {
    vi.useFakeTimers();
    const written: string[] = [];
    const progress = new Progress(
      true,
      (text) => written.push(`err:${text}`),
      () => 80,
    );
    progress.start(blob, 'Uploading');
    progress.advance(blob, 1024);
    vi.advanceTimersByTime(110);
    expect(written).toEqual([expect.stringMatching(/^err:Uploading weights\.bin +\[/)]);
    written.length = 0;
    printAboveBars((text) => written.push(`out:${text}`), 'Exists     config\n');
    expect(written).toEqual([
      'err:\u001b[1A\r\u001b[J', // up to the bar, erase it and everything below
      'out:Exists     config\n', // the line where the bar was
      expect.stringMatching(/^err:Uploading weights\.bin +\[.*\n$/), // the bar again, under it
    ]);
    written.length = 0;
    progress.stop();
    expect(written).toEqual(['err:\u001b[1A\r\u001b[J']); // nothing left behind
    // Once stopped, lines are printed as they are.
    written.length = 0;
    printAboveBars((text) => written.push(`out:${text}`), 'Digest: x\n');
    expect(written).toEqual(['out:Digest: x\n']);
    vi.useRealTimers();
  });

  it('keeps the bar the same width while the numbers change', () => {
    vi.useFakeTimers({ now: 10_000 });
    const at = (done: number) =>
      formatBar({ name: 'Uploading big.bin', total: 32 * 1024 ** 2, done, started: 9_000 }, 79);
    const lines = [0, 2 * 1024 ** 2, 12 * 1024 ** 2, 32 * 1024 ** 2].map(at);
    expect(new Set(lines.map((line) => line.indexOf(']'))).size).toBe(1);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
    vi.useRealTimers();
  });

  it('never draws a line as wide as the terminal (a wrapped bar would break the redraw)', () => {
    vi.useFakeTimers({ now: 10_000 });
    for (const width of [20, 39, 60, 79, 119]) {
      const line = formatBar(
        { name: `Uploading ${'x'.repeat(90)}.bin`, total: 10 * 1024 ** 3, done: 1, started: 9_000 },
        width,
      );
      expect(line.length, line).toBeLessThanOrEqual(width);
    }
    vi.useRealTimers();
  });
});
