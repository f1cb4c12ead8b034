import { run } from './main.js';

/** Runs ferry in this process with stdout and stderr captured as text (for tests and embedding). */
export async function runCaptured(
  ...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runWithStdin(undefined, ...argv);
}

/** As runCaptured, with `stdin` as the text a command reads from stdin (--password-stdin). */
export async function runWithStdin(
  stdin: string | undefined,
  ...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    ...(stdin === undefined ? {} : { readStdin: async () => stdin }),
  });
  return { code, stdout, stderr };
}
