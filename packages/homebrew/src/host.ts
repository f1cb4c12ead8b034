/**
 * The impure edge of bottle-tag detection: reading the macOS product version. Kept apart so that
 * `hostBottleTag` (tags.ts) stays a pure function of the values handed to it.
 */
import { execFileSync } from 'node:child_process';
import { hostBottleTag } from './tags.js';

/**
 * `sw_vers -productVersion` on macOS (`14.6.1`), `undefined` elsewhere or when it cannot run.
 * Homebrew reads the same value (`MacOS.full_version`, from `sw_vers` in brew.sh).
 */
export function readMacosProductVersion(platform: string = process.platform): string | undefined {
  if (platform !== 'darwin') return undefined;
  try {
    const output = execFileSync('/usr/bin/sw_vers', ['-productVersion'], {
      encoding: 'utf8',
      timeout: 5_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return output.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** This machine's bottle tag: {@link hostBottleTag} fed with process values and `sw_vers`. */
export function currentBottleTag(): string {
  return hostBottleTag({
    platform: process.platform,
    arch: process.arch,
    macosVersion: readMacosProductVersion(),
  });
}
