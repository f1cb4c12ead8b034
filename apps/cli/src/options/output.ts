/** -o/--output: where a command writes what it fetched or built; and pull's -k. */
import { UsageError } from '../exit.js';
import { type ArgsOf, onceText, optionGroup } from './group.js';

/** One path, not empty (`-o` with nothing after it reads as an empty path). */
function outputPath(value: string | string[]): string {
  const path = onceText('output', value);
  if (path === '') {
    throw new UsageError('--output needs a path: give a directory or file, or - for stdout');
  }
  return path;
}

/** A directory, the current one unless given. */
export function outputDirectoryOption(describe: string) {
  return optionGroup({
    output: { alias: 'o', type: 'string', default: '.', describe, coerce: outputPath },
  });
}
export type OutputDirectoryArgs = ArgsOf<ReturnType<typeof outputDirectoryOption>>;

/** A file (or -), instead of the command's usual output. */
export function outputFileOption(describe: string) {
  return optionGroup({
    output: { alias: 'o', type: 'string', describe, coerce: outputPath },
  });
}
export type OutputFileArgs = ArgsOf<ReturnType<typeof outputFileOption>>;

/** A path the command cannot do without (backup). */
export function requiredOutputOption(describe: string) {
  return optionGroup({
    output: { alias: 'o', type: 'string', demandOption: true, describe, coerce: outputPath },
  });
}
export type RequiredOutputArgs = ArgsOf<ReturnType<typeof requiredOutputOption>>;

export const keepOldFilesOption = optionGroup({
  'keep-old-files': {
    alias: 'k',
    type: 'boolean',
    describe: 'Fail rather than overwrite existing files',
  },
});
export type KeepOldFilesArgs = ArgsOf<typeof keepOldFilesOption>;
