// What users see when things go wrong: exit codes, `Error:`/`Hint:` lines, nothing half-done;
// and --debug traces that never show a secret.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { digestOf, linesOf, treeOf, type CliFixture } from './cli-fixture.js';
import { writeInputs } from './cli-fixture-push.js';

/** A JWT (header.payload.…) as the token server issues them. */
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}/;

export function errorTests(fx: CliFixture): void {
  it('pull of an unknown tag exits 1 with an Error line and a Hint naming tag and repository', async () => {
    await writeInputs(fx);
    const repo = fx.repo('unknown');
    await fx.ok(['push', `${repo}:v1`, 'a.txt']);
    const result = await fx.run(['pull', `${repo}:nope`, '-o', 'out']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = linesOf(result.stderr);
    expect(lines[0]).toMatch(/^Error: /);
    expect(lines).toContain(
      `Hint: the tag "nope" was not found in repository ${repo}; list tags with: ferry repo tags ${repo}`,
    );
  });

  it('refuses a title that escapes the output directory unless -T allows it', async () => {
    const secret = `outside ${Math.random()}\n`;
    await fx.write('evil', secret);
    await mkdir(join(fx.dir, 'work'));
    const repo = fx.repo('traversal');
    const cwd = join(fx.dir, 'work');
    const refused = await fx.run(['push', `${repo}:v1`, '../evil'], { cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^Error: .*"\.\.\/evil".*--disable-path-validation/);
    await fx.ok(['push', `${repo}:v1`, '../evil', '--disable-path-validation'], { cwd });

    await mkdir(join(fx.dir, 'pull', 'out'), { recursive: true });
    const before = await treeOf(fx.dir);
    const pulled = await fx.run(['pull', `${repo}:v1`, '-o', 'pull/out']);
    expect(pulled.code).toBe(1);
    expect(pulled.stderr).toMatch(/^Error: .*\.\.\/evil.*-T\/--allow-path-traversal/);
    expect(await treeOf(fx.dir)).toEqual(before); // nothing written anywhere

    await fx.ok(['pull', `${repo}:v1`, '-o', 'pull/out', '-T']);
    expect(await readFile(join(fx.dir, 'pull', 'evil'), 'utf8')).toBe(secret);
  });

  it('push with a missing file exits 2 and pushes nothing', async () => {
    await writeInputs(fx);
    const repo = fx.repo('missing');
    await fx.ok(['push', `${repo}:other`, 'a.txt']);
    const fresh = `never pushed ${Math.random()}\n`;
    await fx.write('fresh.txt', fresh);
    const result = await fx.run(['push', `${repo}:v1`, 'fresh.txt', 'missing.txt']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(linesOf(result.stderr)[0]).toBe('Error: file not found: missing.txt');
    const [tags, blob] = await Promise.all([
      fx.ok(['repo', 'tags', repo]),
      fx.run(['blob', 'fetch', `${repo}@${digestOf(fresh)}`, '--descriptor']),
    ]);
    expect(tags.stdout).toBe('other\n');
    expect(blob.code).toBe(1);
  });

  it('usage and reference errors: exit codes and messages', async () => {
    await writeInputs(fx);
    const [invalid, bare, unknown, nothing] = await Promise.all([
      fx.run(['push', `${fx.host}/Foo/Bar:v1`, 'a.txt']),
      fx.run(['pull', 'Foo/Bar:v1']),
      fx.run(['frobnicate', 'x'], { config: false }),
      fx.run(['push', `${fx.repo('nothing')}:v1`]),
    ]);
    expect(invalid.code).toBe(2); // a usage error, as the README says
    expect(linesOf(invalid.stderr)).toEqual([
      `Error: invalid reference "${fx.host}/Foo/Bar:v1": repository name must be lowercase`,
      'Hint: References look like registry/repository[:tag][@digest], e.g. localhost:5000/models/llama:v1',
    ]);
    expect(bare.code).toBe(2);
    expect(linesOf(bare.stderr)[0]).toBe(
      'Error: invalid reference "Foo/Bar:v1": repository name must be lowercase',
    );
    expect(unknown.code).toBe(2);
    expect(linesOf(unknown.stderr)[0]).toMatch(/^Error: .*frobnicate/);
    expect(nothing.code).toBe(2);
    expect(linesOf(nothing.stderr)[0]).toBe('Error: push needs at least one file or annotation');
    for (const result of [invalid, bare, unknown, nothing]) expect(result.stdout).toBe('');
  });

  it('--debug traces requests on stderr without secrets', async () => {
    await writeInputs(fx);
    const repo = fx.repo('debug');
    const pushed = await fx.run(['push', `${repo}:v1`, 'a.txt', '--debug']);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(/^Digest: sha256:/m); // results still go to stdout only
    const traced = linesOf(pushed.stderr).filter((line) => line.startsWith('[debug] '));
    expect(traced.some((line) => line.includes(`/v2/${repo.slice(fx.host.length + 1)}/`))).toBe(
      true,
    );
    expect(pushed.stderr).not.toMatch(JWT);
    if (fx.mode === 'token') {
      expect(fx.password).toBeTruthy();
      expect(pushed.stderr).not.toContain(fx.password);
      expect(pushed.stderr).toContain('authorization: Bearer REDACTED');
      expect(pushed.stderr).toContain('authorization: Basic REDACTED'); // to the token server
      expect(pushed.stderr).not.toMatch(/authorization: (Bearer|Basic) (?!REDACTED)/i);
      expect(fx.reg.tokenServer?.log.some((t) => t.subject === 'ferry')).toBe(true);
    } else {
      expect(pushed.stderr).not.toMatch(/authorization:/i);
    }
  });
}
