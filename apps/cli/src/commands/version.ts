/** `ferry version`, like `oras version`: what is running, for bug reports. */
import { withHelpLayout } from '../help-layout.js';
import { applyGroups } from '../options/group.js';
import { versionFormatOptions } from '../options/format.js';
import { version } from '../version.js';
import type { Command } from './define.js';

export const versionCommand: Command = {
  command: 'version',
  groups: [versionFormatOptions],
  subcommands: [],
  register(yargs, io) {
    yargs.command(
      withHelpLayout({
        command: 'version',
        describe: 'Show the version of ferry and of the Node.js running it',
        builder: (command) =>
          applyGroups(command, [versionFormatOptions]).example(
            '$0 version --format json',
            'Machine-readable version information',
          ),
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
      }),
    );
  },
};
