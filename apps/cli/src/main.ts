import yargs from 'yargs';
import { COMMANDS } from './commands/all.js';
import { ExitCode, reportError, UsageError } from './exit.js';
import { asksForHelp, layoutHelp, resetExamples } from './help-layout.js';
import { processIo, terminalSafe, type Io } from './io.js';
import { protectDashes } from './stdin-argument.js';
import { version } from './version.js';

export { paceBufferCollection } from './buffer-pacer.js';

/**
 * Runs ferry with the given arguments (without `node` and the script) and resolves to the exit
 * code. Never calls process.exit, so that output is flushed and tests can call it in-process.
 */
export async function run(argv: readonly string[], given: Io = processIo): Promise<number> {
  // Text from registries reaches the terminal only through here, escaped.
  const io = terminalSafe(given);
  resetExamples();
  const width = helpWidth();
  const parser = yargs(protectDashes(argv))
    .scriptName('ferry')
    .usage(
      '$0 <command> [options]\n\nPush and pull files, models and Homebrew bottles to and from OCI registries.',
    );
  // English whatever LC_ALL/LANG say: the unknown-command check below and the help layout read
  // yargs' English texts (and the bundle in dist/bundle/ carries no yargs locale files).
  parser.locale('en');
  for (const command of COMMANDS) command.register(parser, io);
  parser
    .completion(
      'completion',
      'Print a shell completion script (bash/zsh): ferry completion >> ~/.bashrc',
    )
    .demandCommand(1, 'Name a command to run.')
    .recommendCommands()
    .strict()
    .version(version)
    .alias('h', 'help')
    .help()
    .wrap(width)
    .exitProcess(false)
    .fail((message, error) => {
      // yargs reports its own parse errors as a message; errors from handlers pass through. An
      // option's `coerce` that refuses a value reaches here as a YError: a usage error too.
      if (error && error.name !== 'YError') throw error;
      const command = argv.find((arg) => !arg.startsWith('-'));
      if (
        command &&
        message === `Unknown argument: ${command}` &&
        argv.indexOf(command) === argv.findIndex((a) => !a.startsWith('-'))
      ) {
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
      }
      throw new UsageError(
        /^Did you mean/.test(message)
          ? `unknown command ${JSON.stringify(command)}. ${message}`
          : message,
      );
    })
    .epilogue('Exit codes: 0 success, 1 failure, 2 usage error.');

  skipHelpCache(parser);
  let output = '';
  try {
    await parser.parseAsync(protectDashes(argv), {}, (_error, _args, text) => {
      output = text ?? '';
    });
  } catch (error) {
    const { exitCode, lines } = reportError(error);
    io.stderr(`${lines.join('\n')}\n`);
    return exitCode;
  }
  // --help, --version and completion come back as text instead of being printed by yargs.
  if (output) io.stdout(`${asksForHelp(argv) ? layoutHelp(output, width) : output}\n`);
  return ExitCode.Ok;
}

/** Help fits $COLUMNS (when exported), else the terminal, up to 100 columns. */
function helpWidth(): number {
  return Math.min(100, Number(process.env.COLUMNS) || process.stdout.columns || 100);
}

/**
 * yargs renders the whole help text after starting every command handler, in case the handler
 * asks for it (`cacheHelpMessage`). ferry's handlers never do, and failures print a one-line hint
 * instead of help, so the render (25-45 ms of every command's start-up, before its first request)
 * is skipped. Reached through yargs' internal methods; if they change, yargs simply renders again.
 */
export function skipHelpCache(parser: unknown): void {
  const internal = (parser as { getInternalMethods?: () => unknown }).getInternalMethods?.();
  const usage = (
    internal as { getUsageInstance?: () => unknown } | undefined
  )?.getUsageInstance?.();
  if (usage && typeof (usage as { cacheHelpMessage?: unknown }).cacheHelpMessage === 'function') {
    (usage as { cacheHelpMessage: () => void }).cacheHelpMessage = () => {};
  }
}
