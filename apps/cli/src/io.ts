import type { Writable } from 'node:stream';

/** Where a command's results (stdout) and messages (stderr) go; injected so tests can read them. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Binary results (blob and file contents); process.stdout unless a test replaces it. */
  stdoutStream?: Writable;
  /** Asks the user a question and resolves to the answer; a terminal prompt unless replaced. */
  ask?: (question: string) => Promise<string>;
}

export const processIo: Io = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  stdoutStream: process.stdout,
};
