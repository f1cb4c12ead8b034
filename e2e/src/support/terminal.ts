/**
 * The built ferry on a pseudo-terminal (util-linux `script`), and a tiny screen emulator that
 * replays what it wrote, so tests can assert on what the user is left looking at: text, `\r`,
 * `\n`, backspace, and the cursor and erase sequences ferry and readline use (CSI A B C D G K J).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repositoryRoot } from './cli.js';

const FERRY = join(repositoryRoot, 'apps/cli/bin/ferry.js');

/** Single-quotes a word for sh. */
const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

export interface TerminalRun {
  code: number;
  /** Everything the terminal received, escape sequences included. */
  transcript: string;
}

export interface TerminalOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  columns?: number;
  /** Typed when the terminal shows `prompt` (a gate, not a delay): prompt → what to type. */
  answers?: [prompt: string, typed: string][];
}

/** Runs `ferry args…` with stdin, stdout and stderr on a pseudo-terminal `columns` wide. */
export function ferryInTerminal(args: string[], options: TerminalOptions): Promise<TerminalRun> {
  const columns = options.columns ?? 80;
  const command = `stty cols ${columns} rows 40; exec ${[process.execPath, FERRY, ...args].map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: options.cwd,
      env: { ...process.env, TERM: 'xterm', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const answers = [...(options.answers ?? [])];
    let transcript = '';
    let searchedUpTo = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      transcript += chunk.toString('utf8');
      const next = answers[0];
      if (next) {
        const at = transcript.indexOf(next[0], searchedUpTo);
        if (at >= 0) {
          searchedUpTo = at + next[0].length;
          answers.shift();
          child.stdin.write(next[1]);
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (transcript += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      child.stdin.destroy();
      resolve({ code: code ?? -1, transcript });
    });
  });
}

/** The screen after `output` was written to an empty terminal `columns` wide. */
export function screenOf(output: string, columns = 80): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let column = 0;
  const line = () => (lines[row] ??= []);
  const clamp = () => {
    row = Math.max(0, row);
    column = Math.max(0, Math.min(columns - 1, column));
  };
  for (let i = 0; i < output.length; i++) {
    const char = output[i] as string;
    if (char === '\x1b') {
      // eslint-disable-next-line no-control-regex -- matching escape sequences is the point
      const csi = /^\x1b\[([?0-9;]*)([A-Za-z])/.exec(output.slice(i));
      if (!csi) continue; // a lone ESC or another kind of sequence: nothing on screen
      i += csi[0].length - 1;
      const [, params = '', final] = csi;
      const n = Number(params.split(';')[0] || (final === 'K' || final === 'J' ? 0 : 1));
      if (params.startsWith('?')) continue; // modes (cursor visibility, bracketed paste)
      switch (final) {
        case 'A':
          row -= n;
          break;
        case 'B':
          row += n;
          break;
        case 'C':
          column += n;
          break;
        case 'D':
          column -= n;
          break;
        case 'G':
          column = n - 1;
          break;
        case 'K':
          if (n === 0) line().splice(column);
          else if (n === 1) for (let c = 0; c <= column; c++) line()[c] = ' ';
          else lines[row] = [];
          break;
        case 'J':
          if (n === 0) {
            line().splice(column);
            lines.splice(row + 1);
          }
          break;
      }
      clamp();
      continue;
    }
    if (char === '\r') column = 0;
    else if (char === '\n') row++;
    else if (char === '\b') column = Math.max(0, column - 1);
    else if (char >= ' ') {
      if (column >= columns) {
        row++;
        column = 0;
      }
      const current = line();
      while (current.length < column) current.push(' ');
      current[column] = char;
      column++;
    }
  }
  const text = Array.from(lines, (cells) => (cells ?? []).join('').trimEnd());
  while (text.length && text.at(-1) === '') text.pop();
  return text;
}
