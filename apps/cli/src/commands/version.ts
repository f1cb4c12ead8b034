import type { CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { version } from '../version.js';

interface VersionArgs {
  format: 'text' | 'json';
}

/** `ferry version`, like `oras version`: what is running, for bug reports. */
export function versionCommand(io: Io): CommandModule<object, VersionArgs> {
  return {
    command: 'version',
    describe: 'Show the version of ferry and of the Node.js running it',
    builder: (yargs) =>
      yargs
        .option('format', {
          choices: ['text', 'json'] as const,
          default: 'text' as const,
          describe: 'Output format',
        })
        .example('$0 version --format json', 'Machine-readable version information'),
    handler: (args) => {
      const info = {
        version,
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
      };
      if (args.format === 'json') {
        io.stdout(`${JSON.stringify(info, null, 2)}\n`);
      } else {
        io.stdout(
          `Version:  ${info.version}\nNode.js:  ${info.node}\nPlatform: ${info.platform}\n`,
        );
      }
    },
  };
}
