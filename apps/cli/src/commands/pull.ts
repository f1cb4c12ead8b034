/** `ferry pull <reference>`: ORAS's pull. */
import { cacheDirOption, keepInCacheOption } from '../options/cache.js';
import { parallelOption, transferConcurrencyOption } from '../options/concurrency.js';
import { formatOptions } from '../options/format.js';
import { keepOldFilesOption, outputDirectoryOption } from '../options/output.js';
import { platformOption } from '../options/platform.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import {
  pullArguments,
  pullIncludeFlags,
  pullSafetyFlags,
  pullSubjectFlags,
} from '../run/args/pull.js';
import { defineCommand } from './define.js';
import { CACHE_DIR, PULL_PLATFORM } from './texts.js';

export const pullCommand = defineCommand({
  command: 'pull <reference>',
  describe: 'Pull the files of an artifact into a directory (or one file to stdout)',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    transferConcurrencyOption,
    parallelOption,
    pullArguments,
    outputDirectoryOption('Output directory, or - for stdout (one file)'),
    pullIncludeFlags,
    keepOldFilesOption,
    pullSafetyFlags,
    platformOption(PULL_PLATFORM),
    cacheDirOption(CACHE_DIR),
    keepInCacheOption,
    pullSubjectFlags,
  ],
  examples: [
    ['$0 pull localhost:5000/models/tiny:v1 -o ./model', 'Pull every file into ./model'],
    [
      '$0 pull localhost:5000/docs:v1 --include "*.pdf" -o - > report.pdf',
      'Stream one file to stdout',
    ],
  ],
  load: () => import('../run/pull.js'),
});
