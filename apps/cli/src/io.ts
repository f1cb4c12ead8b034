import type { Writable } from 'node:stream';
import { escapeTerminal } from './terminal-text.js';

/** Where a command's results (stdout) and messages (stderr) go; injected so tests can read them. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Binary results (blob and file contents); process.stdout unless a test replaces it. */
  stdoutStream?: Writable;
  /** All of stdin as text; process.stdin unless a test replaces it. */
  readStdin?: () => Promise<string>;
  /** Asks the user a question and resolves to the answer; a terminal prompt unless replaced. */
  ask?: (question: string) => Promise<string>;
}

export const processIo: Io = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  stdoutStream: process.stdout,
};

/**
 * The same Io with every text line made safe for a terminal (see escapeTerminal). Binary
 * results (`stdoutStream`: blob and manifest bytes asked for as they are) pass untouched.
 */
export function terminalSafe(io: Io): Io {
  return {
    ...io,
    stdout: (text) => io.stdout(escapeTerminal(text)),
    stderr: (text) => io.stderr(escapeTerminal(text)),
  };
}
