import type { Context, ContextArgs } from '../context.js';
import type { Io } from '../io.js';
import { restoreDashes } from '../stdin-argument.js';

/** What a command's implementation module exports. */
export interface CommandModuleImpl<A> {
  run: (context: Context, args: A) => Promise<void>;
}

/** Reads stdin once; later calls get the same text. */
let stdinText: Promise<string> | undefined;
export function readStdin(): Promise<string> {
  stdinText ??= (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  })();
  return stdinText;
}

/**
 * A yargs handler that loads the command's implementation only when the command runs, so that
 * `ferry --help` and `ferry --version` never load undici, tar-stream or the artifact code.
 */
export function lazy<A extends ContextArgs>(io: Io, load: () => Promise<CommandModuleImpl<A>>) {
  return async (args: A): Promise<void> => {
    const [implementation, context] = await Promise.all([load(), import('../context.js')]);
    try {
      restoreDashes(args);
      await implementation.run({ io, args, readStdin: io.readStdin ?? readStdin }, args);
    } finally {
      await context.closeRegistries();
    }
  };
}
