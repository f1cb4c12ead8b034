/** ORAS's format options: --format text|json (one JSON document on stdout) and progress bars. */
import { type ArgsOf, optionGroup } from './group.js';

const OUTPUT = 'Output options:';

const tty = {
  type: 'boolean',
  default: true,
  describe: 'Show progress bars when stderr is a terminal (--no-tty to disable)',
  group: OUTPUT,
} as const;

export const FORMATS = ['text', 'json'] as const;

export const formatOptions = optionGroup({
  format: { choices: FORMATS, default: 'text', describe: 'Output format', group: OUTPUT },
  tty,
});
export type FormatArgs = ArgsOf<typeof formatOptions>;

/** discover: its tree (text) and ORAS's table besides json. */
export const referrersFormatOptions = optionGroup({
  format: {
    choices: [...FORMATS, 'tree', 'table'],
    default: 'text',
    describe: 'tree (text, the default), table (ORAS’s columns, direct referrers) or json',
    group: OUTPUT,
  },
  tty,
});
export type ReferrersFormatArgs = ArgsOf<typeof referrersFormatOptions>;

/** discover's --output: ORAS's older name for its --format (among the command's own flags). */
export const referrersOutputOption = optionGroup({
  output: {
    choices: ['tree', 'table', 'json'],
    describe: 'tree (default), table or json; same as --format',
  },
});
export type ReferrersOutputArgs = ArgsOf<typeof referrersOutputOption>;

/** `ferry version`: the format alone, among the command's own flags (it has no progress). */
export const versionFormatOptions = optionGroup({
  format: { choices: FORMATS, default: 'text', describe: 'Output format' },
});
export type VersionFormatArgs = ArgsOf<typeof versionFormatOptions>;
