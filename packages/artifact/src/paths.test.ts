import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  archiveEntryPath,
  assertNoSymlinkEscape,
  assertSymlinkInside,
  defaultTitle,
  isAbsoluteAnywhere,
  isInside,
  resolveTitlePath,
  titleProblem,
  validateTitle,
} from './paths.js';

describe('titleProblem (push)', () => {
  it.each([
    ['a.txt', undefined],
    ['dir/sub/a.txt', undefined],
    ['./a', undefined],
    ['a..b', undefined],
    ['/etc/passwd', 'is an absolute path'],
    ['\\\\server\\share', 'is an absolute path'],
    ['C:\\x', 'is an absolute path'],
    ['c:x', 'is an absolute path'],
    ['../x', 'contains a ".." segment'],
    ['a/../../x', 'contains a ".." segment'],
    ['a\\..\\x', 'contains a ".." segment'],
    ['', 'is empty'],
    ['./', 'is empty'],
    ['a\0b', 'contains a NUL character'],
  ])('%j → %s', (title, problem) => {
    expect(titleProblem(title)).toBe(problem);
  });

  it('throws ERR_UNSAFE_PATH with the push hint', () => {
    expect(() => validateTitle('/x')).toThrow(
      expect.objectContaining({
        code: 'ERR_UNSAFE_PATH',
        message: expect.stringContaining('--disable-path-validation'),
      }),
    );
  });
});

describe('defaultTitle', () => {
  it.each([
    ['a.txt', 'a.txt'],
    ['./dir//a.txt', 'dir/a.txt'],
    ['dir/', 'dir'],
    ['a/./b/../c', 'a/c'],
    ['/abs/path/', '/abs/path'],
    ['/', '/'],
    ['.', '.'],
  ])('%j → %j', (input, title) => {
    expect(defaultTitle(input)).toBe(title);
  });
});

describe('resolveTitlePath (pull)', () => {
  const root = resolve('/srv/out');

  it.each([
    ['a.txt', join(root, 'a.txt')],
    ['dir/a.txt', join(root, 'dir', 'a.txt')],
    ['a/../b', join(root, 'b')],
  ])('writes %j to %s', (title, expected) => {
    expect(resolveTitlePath(root, title)).toBe(expected);
  });

  it.each([
    '../x',
    '/etc/x',
    'a/../../x',
    'C:\\x',
    'C:x',
    '..\\x',
    'a\\b/../../x',
    '\\x',
    '.',
    '',
    'a\0',
  ])('refuses %j', (title) => {
    expect(() => resolveTitlePath(root, title)).toThrow(
      expect.objectContaining({
        code: 'ERR_UNSAFE_PATH',
        message: expect.stringContaining('-T/--allow-path-traversal'),
      }),
    );
  });

  it('follows traversal when allowed', () => {
    expect(resolveTitlePath(root, '../x', true)).toBe(resolve(root, '..', 'x'));
    expect(resolveTitlePath(root, '/etc/x', true)).toBe(resolve('/etc/x'));
  });
});

describe('isInside and isAbsoluteAnywhere', () => {
  it('compares resolved paths', () => {
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a/b/c')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(false);
    expect(isInside('/a/b', '/a/b/..foo')).toBe(true);
  });

  it('knows the absolute forms of both platforms', () => {
    for (const name of ['/x', '\\x', '\\\\s\\x', 'C:\\x', 'z:/x', 'C:']) {
      expect(isAbsoluteAnywhere(name)).toBe(true);
    }
    for (const name of ['x', './x', '1:x', 'a/b:c']) expect(isAbsoluteAnywhere(name)).toBe(false);
  });
});

describe('assertNoSymlinkEscape', () => {
  it('refuses parents that are symlinks leading outside, and allows those inside', async () => {
    const base = await mkdtemp(join(tmpdir(), 'ferry-paths-test-'));
    try {
      const root = join(base, 'root');
      await mkdir(join(root, 'real'), { recursive: true });
      await mkdir(join(base, 'outside'));
      await symlink(join(base, 'outside'), join(root, 'out'));
      await symlink('real', join(root, 'in'));
      await expect(
        assertNoSymlinkEscape(root, join(root, 'out', 'x'), 'out/x'),
      ).rejects.toMatchObject({
        code: 'ERR_UNSAFE_PATH',
      });
      await expect(
        assertNoSymlinkEscape(root, join(root, 'in', 'x'), 'in/x'),
      ).resolves.toBeUndefined();
      // The last component is replaced by rename, never written through.
      await expect(assertNoSymlinkEscape(root, join(root, 'out'), 'out')).resolves.toBeUndefined();
      await expect(
        assertNoSymlinkEscape(root, join(root, 'new', 'x'), 'new/x'),
      ).resolves.toBeUndefined();
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

describe('archiveEntryPath', () => {
  it.each([
    ['dir', []],
    ['dir/', []],
    ['./dir/a', ['a']],
    ['dir/a/b/', ['a', 'b']],
    ['dir//a/./b', ['a', 'b']],
  ])('%j → %j', (name, segments) => {
    expect(archiveEntryPath(name, 'dir')).toEqual(segments);
  });

  it.each([
    '../evil',
    '/tmp/evil',
    'dir/../evil',
    'dir/a/../../evil',
    'dirx/a',
    'other',
    'dir/a\\b',
    'dir/\0',
  ])('refuses %j', (name) => {
    expect(() => archiveEntryPath(name, 'dir')).toThrow(
      expect.objectContaining({
        code: 'ERR_UNSAFE_ARCHIVE',
        message: expect.stringContaining('entry'),
      }),
    );
  });

  it('matches titles with several segments', () => {
    expect(archiveEntryPath('a/b/c', 'a/b')).toEqual(['c']);
    expect(() => archiveEntryPath('a/c', 'a/b')).toThrow();
  });
});

describe('assertSymlinkInside', () => {
  it.each([
    [['link'], 'target'],
    [['link'], './a/b'],
    [['sub', 'link'], '../a'],
    [['sub', 'link'], '..'],
    [['a', 'b', 'link'], '../../c/d'],
  ])('allows %j → %j', (segments, target) => {
    expect(() => assertSymlinkInside('e', segments, target)).not.toThrow();
  });

  it.each([
    [['link'], '/etc'],
    [['link'], '..'],
    [['link'], 'C:\\Windows'],
    [['sub', 'link'], '../..'],
    [['sub', 'link'], 'a/../../..'],
    [['sub', 'link'], 'a/../b'],
    [['sub', 'link'], '..\\..'],
    [['link'], ''],
  ])('refuses %j → %j', (segments, target) => {
    expect(() => assertSymlinkInside('e', segments, target)).toThrow(
      expect.objectContaining({ code: 'ERR_UNSAFE_ARCHIVE' }),
    );
  });
});
