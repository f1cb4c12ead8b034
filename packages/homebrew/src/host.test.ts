import { describe, expect, it } from 'vitest';
import { currentBottleTag, readMacosProductVersion } from './host.js';
import * as pure from './pure.js';

describe('host helpers', () => {
  it('reads no macOS version elsewhere', () => {
    expect(readMacosProductVersion('linux')).toBeUndefined();
    expect(readMacosProductVersion('win32')).toBeUndefined();
  });

  const linuxWithBottles = process.platform === 'linux' && ['x64', 'arm64'].includes(process.arch);
  it.runIf(linuxWithBottles)('gives this Linux machine its Homebrew bottle tag', () => {
    expect(currentBottleTag()).toBe(process.arch === 'x64' ? 'x86_64_linux' : 'arm64_linux');
  });
  it.runIf(process.platform === 'darwin')('gives this Mac a macOS bottle tag', () => {
    expect(currentBottleTag()).toMatch(/^(arm64_)?[a-z_]+$/);
  });

  it('keeps pure.ts free of the host helpers', () => {
    expect(Object.keys(pure)).not.toContain('readMacosProductVersion');
    expect(Object.keys(pure)).toEqual(
      expect.arrayContaining([
        'imageName',
        'selectBottle',
        'buildBottleImage',
        'compareVersions',
        'parseTab',
      ]),
    );
  });
});
