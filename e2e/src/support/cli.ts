import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, where `npx ferry` is run from. */
export const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command from the repository root and collects its output and exit code. */
export function runCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      {
        cwd: options.cwd ?? repositoryRoot,
        env: { ...process.env, ...options.env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs the built `ferry` binary (apps/cli/bin/ferry.js) with node. */
export function ferry(
  args: string[],
  options?: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string },
): Promise<CliResult> {
  return runCommand(
    process.execPath,
    [join(repositoryRoot, 'apps/cli/bin/ferry.js'), ...args],
    options,
  );
}
