// --platform and --artifact-platform: parsed as the command line is read, so a bad value is a
// usage error (exit 2) naming the flag and the value, before any registry is contacted.
import { describe, expect, it } from 'vitest';
import { runCaptured } from '../run-captured.js';
import { parseGroups } from '../testing/parse-groups.js';
import { artifactPlatformOption, platformOption } from './platform.js';

const platform = platformOption('The manifest for this platform of an index');

describe('--platform', () => {
  it('parses and normalises os/arch[/variant][:os.version]', async () => {
    expect(await parseGroups([platform], ['--platform', 'Linux/aarch64'])).toMatchObject({
      ok: true,
      args: { platform: { os: 'linux', architecture: 'arm64' } },
    });
    expect(
      await parseGroups([platform], ['--platform', 'windows/amd64:10.0.17763.1234']),
    ).toMatchObject({
      ok: true,
      args: { platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1234' } },
    });
  });

  it('is absent when not given, and when given empty (as in ORAS)', async () => {
    expect(await parseGroups([platform], [])).toMatchObject({ ok: true, args: {} });
    const empty = await parseGroups([platform], ['--platform', '']);
    expect(empty).toMatchObject({ ok: true });
    expect(empty.ok && empty.args.platform).toBeUndefined();
  });

  it.each([
    ['linux', 'missing architecture'],
    ['linux/amd64/v1/x', 'too many "/"-separated parts'],
    ['linux/am d64', 'architecture may contain only letters, digits, "_", "." and "-"'],
    ['linux/amd64:', 'empty os.version after ":"'],
  ])('refuses %j, naming the flag and the value', async (value, reason) => {
    expect(await parseGroups([platform], ['--platform', value])).toEqual({
      ok: false,
      message: `--platform: invalid platform ${JSON.stringify(value)}: ${reason} (expected os/arch[/variant][:os.version], e.g. linux/arm64/v8)`,
    });
  });

  it('refuses two platforms', async () => {
    expect(
      await parseGroups([platform], ['--platform', 'linux/amd64', '--platform', 'linux/arm64']),
    ).toEqual({ ok: false, message: '--platform was given 2 times: give it once' });
  });

  it.each([
    ['pull', ['pull', 'localhost:1/a:v1']],
    ['resolve', ['resolve', 'localhost:1/a:v1']],
    ['copy', ['cp', 'localhost:1/a:v1', 'localhost:1/b:v1']],
    ['manifest fetch', ['manifest', 'fetch', 'localhost:1/a:v1']],
    ['model pull', ['model', 'pull', 'localhost:1/a:v1']],
  ])('%s: a bad --platform exits 2 before any registry is contacted', async (_command, argv) => {
    // Nothing listens on port 1: had ferry gone to the registry, it would exit 1 (refused).
    const result = await runCaptured(...argv, '--platform', 'linux');
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'Error: --platform: invalid platform "linux": missing architecture (expected os/arch[/variant][:os.version], e.g. linux/arm64/v8)\n' +
        "Run 'ferry --help' for usage.\n",
    });
  });
});

describe('--artifact-platform', () => {
  it('keeps the value as written (the config records it so) once it parses', async () => {
    expect(
      await parseGroups([artifactPlatformOption], ['--artifact-platform', 'linux/aarch64']),
    ).toMatchObject({ ok: true, args: { 'artifact-platform': 'linux/aarch64' } });
  });

  it('push: a bad value exits 2 naming the flag', async () => {
    const result = await runCaptured('push', 'localhost:1/a:v1', '--artifact-platform', 'linux/');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: --artifact-platform: invalid platform "linux/": empty architecture (expected os/arch[/variant][:os.version], e.g. linux/arm64/v8)\n' +
        "Run 'ferry --help' for usage.\n",
    );
  });

  it('push: --config and --artifact-platform conflict (exit 2)', async () => {
    const result = await runCaptured(
      'push',
      'localhost:1/a:v1',
      '--config',
      'c.json',
      '--artifact-platform',
      'linux/amd64',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Error: --config and --artifact-platform cannot both be given');
  });
});
