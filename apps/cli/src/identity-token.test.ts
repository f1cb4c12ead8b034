import { describe, expect, it } from 'vitest';
import type { Context } from './context.js';
import { givenIdentityToken } from './identity-token.js';

function context(args: Record<string, unknown>, stdin = '') {
  const errors: string[] = [];
  let reads = 0;
  const ctx = {
    io: { stdout: () => {}, stderr: (text: string) => void errors.push(text) },
    args: { format: 'text', ...args },
    readStdin: async () => {
      reads++;
      return stdin;
    },
  } as unknown as Context;
  return { ctx, errors, reads: () => reads };
}

describe('givenIdentityToken', () => {
  it('is undefined without the flags, and reads nothing', async () => {
    const c = context({});
    expect(await givenIdentityToken(c.ctx)).toBeUndefined();
    expect(c.reads()).toBe(0);
  });

  it('reads stdin, dropping one trailing newline', async () => {
    const c = context({ 'identity-token-stdin': true }, 'refresh-token\r\n');
    expect(await givenIdentityToken(c.ctx)).toBe('refresh-token');
    expect(c.errors).toEqual([]);
  });

  it('takes --identity-token with a warning to use stdin', async () => {
    const c = context({ 'identity-token': 'abc' });
    expect(await givenIdentityToken(c.ctx)).toBe('abc');
    expect(c.errors.join('')).toMatch(/^Warning: .*--identity-token-stdin/);
  });

  it('refuses a username, a password, both token flags, and an empty token', async () => {
    for (const args of [
      { 'identity-token': 'a', username: 'u' },
      { 'identity-token-stdin': true, password: 'p' },
      { 'identity-token-stdin': true, 'password-stdin': true },
      { 'identity-token-stdin': true, 'identity-token': 'a' },
    ]) {
      await expect(givenIdentityToken(context(args, 'x').ctx)).rejects.toMatchObject({
        code: 'ERR_USAGE',
      });
    }
    await expect(
      givenIdentityToken(context({ 'identity-token-stdin': true }, '\n').ctx),
    ).rejects.toThrow(/stdin held no token/);
  });
});
