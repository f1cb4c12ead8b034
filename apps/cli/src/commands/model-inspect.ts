/** `ferry model inspect <reference>`: a model's facts and files, no weights fetched. */
import { formatOptions } from '../options/format.js';
import { platformOption } from '../options/platform.js';
import { ociLayoutOption, remoteOptions } from '../options/remote.js';
import { referenceArgument } from '../run/args/reference.js';
import { defineCommand } from './define.js';

export const modelInspectCommand = defineCommand({
  command: 'inspect <reference>',
  describe:
    'Show a model’s format, family, size, precision, licence and files (no weights fetched)',
  options: [
    remoteOptions,
    ociLayoutOption,
    formatOptions,
    referenceArgument,
    platformOption('From a multi-platform index, inspect os/arch[/variant]'),
  ],
  examples: [['$0 model inspect localhost:5000/models/tiny-llama:v1 --format json', 'As JSON']],
  load: () => import('../run/model-inspect.js'),
});
