// The option-group machinery: groups apply in order, headings and prefixes as declared, and a
// group's parsed type is what yargs really parses.
import { describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { UsageError } from '../exit.js';
import { parseGroups } from '../testing/parse-groups.js';
import { artifactTypeOption, requiredArtifactTypeOption } from './artifact-type.js';
import { cacheDirOption } from './cache.js';
import { formatOptions, referrersFormatOptions } from './format.js';
import { applyGroups, flagNames, once, optionGroup, positionalGroup, prefixed } from './group.js';
import { annotationOption, imageSpecOption } from './packer.js';

describe('applyGroups', () => {
  it('declares flags in group order, under their headings, and positionals', async () => {
    const first = optionGroup({ zeta: { type: 'string', describe: 'Z' } });
    const second = optionGroup(
      { alpha: { type: 'boolean', describe: 'A' } },
      { heading: 'Later options:' },
    );
    const args = positionalGroup({ thing: { type: 'string', demandOption: true } });
    let help = '';
    const parser = yargs(['go', 'x', '--help'])
      .exitProcess(false)
      .command('go <thing>', 'go', (command) => applyGroups(command, [first, second, args]));
    await parser.parseAsync(['go', 'x', '--help'], {}, (_error, _argv, output) => {
      help = output;
    });
    const section = (heading: string) => help.slice(help.indexOf(heading)).split('\n\n')[0];
    expect(section('Later options:')).toContain('--alpha');
    expect(section('Later options:')).not.toContain('--zeta');
    expect(section('Options:')).toContain('--zeta');
    expect(help).toContain('thing');
    expect(flagNames(first)).toEqual(['zeta']);
    expect(flagNames(args)).toEqual([]);
  });

  it('prefixed renames every flag of a declaration', () => {
    expect(Object.keys(prefixed('to-', { header: {}, 'ca-file': {} }))).toEqual([
      'to-header',
      'to-ca-file',
    ]);
  });

  it('once refuses an array with a usage error naming the flag', () => {
    expect(once('x', 'a')).toBe('a');
    expect(() => once('x', ['a', 'b'])).toThrow(UsageError);
    expect(() => once('x', ['a', 'b'])).toThrow('--x was given 2 times: give it once');
  });
});

describe('--format', () => {
  it('text by default, json on request, anything else refused', async () => {
    expect(await parseGroups([formatOptions], [])).toMatchObject({
      ok: true,
      args: { format: 'text', tty: true },
    });
    expect(await parseGroups([formatOptions], ['--format', 'json', '--no-tty'])).toMatchObject({
      ok: true,
      args: { format: 'json', tty: false },
    });
    expect(await parseGroups([formatOptions], ['--format', 'tree'])).toEqual({
      ok: false,
      message: 'Invalid values:\n  Argument: format, Given: "tree", Choices: "text", "json"',
    });
  });

  it('discover also takes tree and table', async () => {
    expect(await parseGroups([referrersFormatOptions], ['--format', 'table'])).toMatchObject({
      ok: true,
      args: { format: 'table' },
    });
  });
});

describe('--artifact-type, --cache-dir, --annotation, --image-spec', () => {
  it('take one value each (annotations repeat)', async () => {
    const groups = [
      artifactTypeOption('T'),
      cacheDirOption('C'),
      annotationOption('A'),
      imageSpecOption('I'),
    ] as const;
    expect(
      await parseGroups(groups, [
        '--artifact-type',
        'a/b',
        '--cache-dir',
        'c',
        '-a',
        'k=v',
        '-a',
        'l=w',
        '--image-spec',
        'v1.0',
      ]),
    ).toMatchObject({
      ok: true,
      args: {
        'artifact-type': 'a/b',
        'cache-dir': 'c',
        annotation: ['k=v', 'l=w'],
        'image-spec': 'v1.0',
      },
    });
    expect(await parseGroups(groups, ['--artifact-type', 'a/b', '--artifact-type', 'c/d'])).toEqual(
      { ok: false, message: '--artifact-type was given 2 times: give it once' },
    );
    expect(await parseGroups(groups, ['--cache-dir', 'a', '--cache-dir', 'b'])).toEqual({
      ok: false,
      message: '--cache-dir was given 2 times: give it once',
    });
    expect(await parseGroups(groups, ['--image-spec', 'v2'])).toEqual({
      ok: false,
      message: 'Invalid values:\n  Argument: image-spec, Given: "v2", Choices: "v1.1", "v1.0"',
    });
  });

  it('attach requires an artifact type', async () => {
    expect(await parseGroups([requiredArtifactTypeOption('T')], [])).toEqual({
      ok: false,
      message: 'Missing required argument: artifact-type',
    });
  });
});
