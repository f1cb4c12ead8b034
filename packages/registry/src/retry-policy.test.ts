import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isBodyCutShort,
  isRetryableError,
  parseRetryAfter,
} from './retry-policy.js';

describe('retry policy', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('backs off with full jitter between half the minimum and a doubling, capped ceiling', () => {
    const policy = { retries: 5, minDelayMs: 200, maxDelayMs: 1000, maxRetryAfterMs: 5000 };
    expect(backoffDelay(policy, 0, undefined, () => 0)).toBe(100);
    expect(backoffDelay(policy, 0, undefined, () => 1)).toBe(200);
    expect(backoffDelay(policy, 2, undefined, () => 1)).toBe(800);
    expect(backoffDelay(policy, 10, undefined, () => 1)).toBe(1000);
  });

  it('waits at least what Retry-After asks, cut to the policy maximum', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, maxRetryAfterMs: 5000 };
    expect(backoffDelay(policy, 0, '3', () => 0)).toBe(3000);
    expect(backoffDelay(policy, 0, ['2', '9'], () => 0)).toBe(2000);
    expect(backoffDelay(policy, 0, '3600', () => 0)).toBe(5000);
  });

  it('retries socket errors found a few causes deep, and only those', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(isRetryableError(new Error('fetch failed', { cause: reset }))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('denied'), { code: 'EACCES' }))).toBe(false);
    expect(isBodyCutShort({ code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' })).toBe(true);
    expect(isBodyCutShort({ code: 'ECONNRESET' })).toBe(false);
  });
});
