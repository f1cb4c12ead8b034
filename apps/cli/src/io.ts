import type { Writable } from 'node:stream';

/** Where a command's results (stdout) and messages (stderr) go; injected so tests can read them. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Binary results (blob and file contents); process.stdout unless a test replaces it. */
  stdoutStream?: Writable;
  /** All of stdin as text; process.stdin unless a test replaces it. */
  readStdin?: () => Promise<string>;
}

export const processIo: Io = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  stdoutStream: process.stdout,
};
