/** `ferry bottle info <formula>`: every bottle of a formula. */
import { formatOptions } from '../options/format.js';
import { remoteOptions } from '../options/remote.js';
import { bottleSourceFlags, formulaArgument, imageVersionFlags } from '../run/args/bottle.js';
import { defineCommand } from './define.js';

export const bottleInfoCommand = defineCommand({
  command: 'info <formula>',
  describe: 'Show every bottle of a formula: tag, platform, size, digest, dependencies',
  options: [remoteOptions, formatOptions, bottleSourceFlags, formulaArgument, imageVersionFlags],
  examples: [['$0 bottle info sqlite --format json', 'As JSON']],
  load: () => import('../run/bottle-info.js'),
});
