import { describe, expect, it } from 'vitest';
import { EXISTENCE_CHECK_SMALL_SIZE, ExistenceChecks } from './existence-checks.js';

const SMALL = 4 * 1024;
const LARGE = EXISTENCE_CHECK_SMALL_SIZE + 1;

/** Asks about `count` blobs of `size` bytes; every check made answers `exists`. */
function run(checks: ExistenceChecks, count: number, size: number, exists = false): boolean[] {
  const answers: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const check = checks.shouldCheck(size);
    answers.push(check);
    if (check) checks.observe(exists);
  }
  return answers;
}

describe('ExistenceChecks', () => {
  it('has a 256 KiB small-size threshold by default', () => {
    expect(EXISTENCE_CHECK_SMALL_SIZE).toBe(256 * 1024);
  });

  it('always checks blobs above smallSize, even after a long run of absent answers', () => {
    const checks = new ExistenceChecks();
    expect(run(checks, 100, LARGE)).toEqual(Array.from({ length: 100 }, () => true));
    expect(checks.skipped).toBe(0);
    // Now warmed up (100 absent): small blobs are skipped, large ones still checked.
    expect(checks.shouldCheck(SMALL)).toBe(false);
    expect(checks.shouldCheck(LARGE)).toBe(true);
    expect(checks.shouldCheck(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(checks.skipped).toBe(1);
  });

  it('treats a blob of exactly smallSize as small', () => {
    const checks = new ExistenceChecks();
    run(checks, 8, SMALL);
    expect(checks.shouldCheck(EXISTENCE_CHECK_SMALL_SIZE)).toBe(false);
    expect(checks.shouldCheck(EXISTENCE_CHECK_SMALL_SIZE + 1)).toBe(true);
    expect(checks.skipped).toBe(1);
  });

  it('skips nothing during the warm-up of 8 absent observations', () => {
    const checks = new ExistenceChecks();
    expect(run(checks, 8, SMALL)).toEqual(Array.from({ length: 8 }, () => true));
    expect(checks.skipped).toBe(0);
    expect(checks.shouldCheck(SMALL)).toBe(false);
    expect(checks.skipped).toBe(1);
  });

  it('counts observations, not checks, towards the warm-up', () => {
    const checks = new ExistenceChecks();
    // Twenty checks in flight at once, none answered yet: all must be made.
    for (let i = 0; i < 20; i++) expect(checks.shouldCheck(SMALL)).toBe(true);
    for (let i = 0; i < 7; i++) checks.observe(false);
    expect(checks.shouldCheck(SMALL)).toBe(true);
    checks.observe(false);
    expect(checks.shouldCheck(SMALL)).toBe(false);
    expect(checks.skipped).toBe(1);
  });

  it('after the warm-up checks only every 16th small blob (40 calls)', () => {
    const checks = new ExistenceChecks({ sampleEvery: 16 });
    const expected = [
      ...Array.from({ length: 8 }, () => true), // calls 1–8: warm-up
      ...Array.from({ length: 32 }, (_, k) => (k + 1) % 16 === 0), // candidates 1–32
    ];
    // Calls 24 and 40 are the 16th and 32nd candidates.
    expect(expected.flatMap((check, i) => (check ? [i + 1] : []))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 24, 40,
    ]);
    expect(run(checks, 40, SMALL)).toEqual(expected);
    expect(checks.skipped).toBe(30);
  });

  it('does not count large blobs as sampling candidates', () => {
    const checks = new ExistenceChecks();
    run(checks, 8, SMALL);
    const answers: boolean[] = [];
    for (let i = 0; i < 32; i++) {
      answers.push(checks.shouldCheck(SMALL));
      // A large blob between every two small ones: checked, and it does not move the sampling.
      expect(checks.shouldCheck(LARGE)).toBe(true);
      checks.observe(false);
    }
    expect(answers.flatMap((check, i) => (check ? [i + 1] : []))).toEqual([16, 32]);
    expect(checks.skipped).toBe(30);
  });

  it('checks every blob again once any observation is "present", and never skips again', () => {
    const checks = new ExistenceChecks();
    run(checks, 8, SMALL);
    expect(run(checks, 15, SMALL)).toEqual(Array.from({ length: 15 }, () => false));
    expect(checks.skipped).toBe(15);
    // The 16th candidate is sampled and turns out to exist: a re-push.
    expect(checks.shouldCheck(SMALL)).toBe(true);
    checks.observe(true);
    // Even a long run of absent answers afterwards does not bring skipping back.
    expect(run(checks, 200, SMALL, false)).toEqual(Array.from({ length: 200 }, () => true));
    expect(checks.skipped).toBe(15);
  });

  it('checks everything when the first check finds the blob present', () => {
    const checks = new ExistenceChecks();
    checks.observe(true);
    expect(run(checks, 50, SMALL, false)).toEqual(Array.from({ length: 50 }, () => true));
    expect(checks.skipped).toBe(0);
  });

  it('a "present" during the warm-up disables skipping for good', () => {
    const checks = new ExistenceChecks();
    run(checks, 3, SMALL, false);
    checks.observe(true);
    expect(run(checks, 40, SMALL, false)).toEqual(Array.from({ length: 40 }, () => true));
    expect(checks.skipped).toBe(0);
  });

  it('honours custom smallSize, warmUp and sampleEvery', () => {
    const checks = new ExistenceChecks({ smallSize: 100, warmUp: 2, sampleEvery: 3 });
    expect(checks.shouldCheck(100)).toBe(true);
    checks.observe(false);
    expect(checks.shouldCheck(50)).toBe(true);
    checks.observe(false);
    // Warmed up after 2. Sizes above 100 are always checked.
    expect(checks.shouldCheck(101)).toBe(true);
    checks.observe(false);
    const answers = run(checks, 9, 100);
    expect(answers).toEqual([false, false, true, false, false, true, false, false, true]);
    expect(checks.skipped).toBe(6);
    // The default small size no longer applies: 4 KiB is "large" here.
    expect(checks.shouldCheck(SMALL)).toBe(true);
    expect(checks.skipped).toBe(6);
  });

  it('warmUp 0 skips from the first small blob', () => {
    const checks = new ExistenceChecks({ warmUp: 0, sampleEvery: 4 });
    expect(run(checks, 8, SMALL)).toEqual([false, false, false, true, false, false, false, true]);
    expect(checks.skipped).toBe(6);
  });

  it('sampleEvery 1 never skips', () => {
    const checks = new ExistenceChecks({ sampleEvery: 1 });
    expect(run(checks, 100, SMALL)).toEqual(Array.from({ length: 100 }, () => true));
    expect(checks.skipped).toBe(0);
  });

  it('sampleEvery below 1 is treated as 1 (never skips)', () => {
    for (const sampleEvery of [0, -5]) {
      const checks = new ExistenceChecks({ sampleEvery, warmUp: 0 });
      expect(run(checks, 20, SMALL)).toEqual(Array.from({ length: 20 }, () => true));
      expect(checks.skipped).toBe(0);
    }
  });
});
