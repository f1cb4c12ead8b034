import { describe, expect, it, vi } from 'vitest';
import { formatBar, formatBytes, Progress } from './progress.js';

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
      /^Uploading weights\.bin \[#+\.+\] 5\.00 MiB\/10\.00 MiB 2\.50 MiB\/s +50%$/,
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
});
