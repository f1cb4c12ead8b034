/**
 * `ferry <command> --help` laid out as ORAS lays out its help: usage, description, examples, then
 * arguments and flags, the command's own flags before the long shared groups (Remote, Output).
 * yargs renders the help; this wraps each command's builder to order its groups, drop the
 * global --version from subcommands and collect its examples (subcommands are wrapped as they
 * are registered, commands/define.ts), and edits the rendered text to
 * put the examples under the description (whole commands, continued with `\` rather than
 * wrapped mid-word) and to drop `[required]`/`[default: []]` from arguments the usage line
 * already marks as required or repeatable.
 */
import type { Argv, CommandModule } from 'yargs';

type Example = [command: string, description: string];

/** The examples of the command whose builder ran last: the one being parsed (or helped). */
let examples: Example[] = [];

/** Forgets the examples of an earlier run in this process. */
export function resetExamples(): void {
  examples = [];
}

type Builder = (yargs: Argv) => Argv | PromiseLike<Argv>;

export function withHelpLayout<T>(module: CommandModule<object, T>): CommandModule<object, T> {
  const original = module.builder;
  if (typeof original !== 'function') return module;
  const builder: Builder = (yargs) => {
    examples = [];
    // `example` is replaced on this instance for the builder's run (yargs' types overload it).
    const patched = yargs as unknown as Record<'example', (...args: never[]) => Argv> &
      Pick<Argv, 'group' | 'version'>;
    const realExample = patched.example.bind(patched);
    patched.example = (command: string, description: string) => {
      examples.push([command, description]);
      return yargs;
    };
    // Groups render in the order they were first named: arguments, then the command's own
    // flags (yargs' default group), then the shared groups the builder adds.
    // No global --version on a subcommand (a builder may then define a --version of its own).
    patched.group([], 'Positionals:').group([], 'Options:').version(false);
    try {
      const built = (original as Builder)(yargs) as Argv;
      return built;
    } finally {
      patched.example = realExample;
    }
  };
  return { ...module, builder: builder as CommandModule<object, T>['builder'] };
}

/** A shell command split into lines of at most `width`, continued with ` \`, never mid-word. */
export function wrapCommand(command: string, width: number, indent = '    '): string[] {
  const split = command.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [command];
  // A flag stays on the line of its value: `-a key=value`, `-o ./model`.
  const words: string[] = [];
  for (let i = 0; i < split.length; i++) {
    const word = split[i] as string;
    const next = split[i + 1];
    if (/^-[\w-]+$/.test(word) && next !== undefined && !next.startsWith('-')) {
      words.push(`${word} ${next}`);
      i++;
    } else {
      words.push(word);
    }
  }
  const lines: string[] = [];
  let line = indent;
  for (const word of words) {
    const candidate = line.trim() ? `${line} ${word}` : `${line}${word}`;
    // Room for the ` \` that continues a line.
    if (line.trim() && candidate.length > width - 2) {
      lines.push(`${line} \\`);
      line = `${indent}  ${word}`;
    } else {
      line = candidate;
    }
  }
  lines.push(line);
  return lines;
}

const GROUP_HEADER = /^(Commands|Positionals|Options|[A-Z][a-z]+ options):$/;
const TYPE_TAGS = /(\s+\[(?:string|array|number|boolean|required|default: \[\])\])+\s*$/;

/** The rendered help of a command with the examples moved up and argument tags dropped. */
export function layoutHelp(help: string, width: number, scriptName = 'ferry'): string {
  const lines = help.split('\n');
  const firstGroup = lines.findIndex((line) => GROUP_HEADER.test(line));
  const out: string[] = [];
  let inPositionals = false;
  const positionalsAt = { header: -1, kept: 0 };
  lines.forEach((line, index) => {
    if (index === firstGroup && examples.length) {
      out.push('Examples:');
      for (const [command, description] of examples) {
        out.push(`  ${description}:`);
        out.push(...wrapCommand(command.replace(/\$0/g, scriptName), width));
      }
      out.push('');
    }
    if (GROUP_HEADER.test(line)) {
      inPositionals = line === 'Positionals:';
      if (inPositionals) positionalsAt.header = out.length;
    }
    if (inPositionals && TYPE_TAGS.test(line)) {
      const kept = line.replace(TYPE_TAGS, '');
      // An argument without a description says nothing the usage line does not.
      if (/^\s+\S+$/.test(kept)) return;
      if (kept.trim()) {
        out.push(kept);
        positionalsAt.kept++;
      }
      return;
    }
    if (inPositionals && line === '' && positionalsAt.kept === 0) {
      out.splice(positionalsAt.header, 1); // no argument left to describe: no heading
      inPositionals = false;
      return;
    }
    out.push(line);
  });
  return out.join('\n');
}

/** True when `argv` asks for help (what yargs answers with the help text). */
export function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}
