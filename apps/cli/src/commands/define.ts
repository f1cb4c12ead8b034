/**
 * How a command file describes its command: its name and arguments, the option groups it
 * composes (in help order), examples, and the `run/` module that runs it, loaded only when it
 * runs. The groups are kept on the command so tests can check the help against them.
 */
import type { Argv, CommandModule } from 'yargs';
import { withHelpLayout } from '../help-layout.js';
import type { Io } from '../io.js';
import { applyGroups, type AnyGroup, type ArgsOfGroups } from '../options/group.js';
import type { ContextArgs } from '../context.js';
import { lazy, type CommandModuleImpl } from './lazy.js';

export type Example = readonly [command: string, description: string];

export interface Command {
  /** As yargs reads it: `push <reference> [files..]`. */
  readonly command: string;
  readonly groups: readonly AnyGroup[];
  readonly subcommands: readonly Command[];
  /** Adds the command (laid out for help as ORAS's) to `yargs`. */
  register(yargs: Argv, io: Io): void;
}

export interface CommandSpec<G extends readonly AnyGroup[]> {
  command: string;
  aliases?: readonly string[];
  describe: string;
  /** The groups, in the order their flags appear in help (positionals anywhere). */
  options: G;
  examples?: readonly Example[];
  /** The `run/` module: its `run` takes what these groups parse. */
  load: () => Promise<CommandModuleImpl<ArgsOfGroups<G> & ContextArgs>>;
}

/**
 * The handler's arguments as the groups declare them. yargs parsed them with exactly these groups
 * (applyGroups), but its types cannot carry a generic builder's result over to the handler, so
 * this is the one place the type is stated rather than inferred. `ContextArgs` holds as every
 * command composes a format group (commands.test.ts checks).
 */
function parsedBy<G extends readonly AnyGroup[]>(
  _groups: G,
  args: object,
): ArgsOfGroups<G> & ContextArgs {
  return args as ArgsOfGroups<G> & ContextArgs;
}

export function defineCommand<const G extends readonly AnyGroup[]>(spec: CommandSpec<G>): Command {
  return {
    command: spec.command,
    groups: spec.options,
    subcommands: [],
    register(yargs, io) {
      const handle = lazy(io, spec.load);
      const module: CommandModule = {
        command: spec.command,
        ...(spec.aliases ? { aliases: spec.aliases } : {}),
        describe: spec.describe,
        builder: (command) => {
          // Declared on `command` itself, which is what the builder hands back.
          applyGroups(command, spec.options);
          for (const [example, description] of spec.examples ?? []) {
            command.example(example, description);
          }
          return command;
        },
        handler: (args) => handle(parsedBy(spec.options, args)),
      };
      yargs.command(withHelpLayout(module));
    },
  };
}

/** `manifest <command>`, `bottle <command>`, …: a name for subcommands. */
export function defineGroupCommand(spec: {
  command: string;
  describe: string;
  subcommands: readonly Command[];
  /** The message when no subcommand is named. */
  demand: string;
  /** The subcommands define a --version of their own (an image tag, a model version). */
  ownVersion?: boolean;
}): Command {
  return {
    command: spec.command,
    groups: [],
    subcommands: spec.subcommands,
    register(yargs, io) {
      yargs.command(
        withHelpLayout({
          command: spec.command,
          describe: spec.describe,
          builder: (command) => {
            if (spec.ownVersion) command.version(false);
            for (const sub of spec.subcommands) sub.register(command, io);
            return command.demandCommand(1, spec.demand);
          },
          handler: () => {},
        }),
      );
    },
  };
}
