import { describe, expect, it } from 'vitest';
import { currentBottleTag, readMacosProductVersion } from './host.js';
import * as pure from './pure.js';

describe('host helpers', () => {
  it('reads no macOS version elsewhere', () => {
    expect(readMacosProductVersion('linux')).toBeUndefined();
    expect(readMacosProductVersion('win32')).toBeUndefined();
  });

  it('gives this machine a tag where Homebrew has bottles', () => {
    if (process.platform === 'linux' && ['x64', 'arm64'].includes(process.arch)) {
      expect(currentBottleTag()).toMatch(/^(x86_64|arm64)_linux$/);
    } else if (process.platform === 'darwin') {
      expect(currentBottleTag()).toMatch(/^(arm64_)?[a-z_]+$/);
    }
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
