import { describe, expect, it } from 'vitest';
import { repositoryRoot, runCommand } from './support/cli.js';

// `npm run demo` is the README's first command; CI runs `npm test`, so the demo is run here too
// (built by `npm test`'s build step) to keep it from rotting.
describe('npm run demo', () => {
  it('round-trips the model through a throwaway registry and leaves nothing running', async () => {
    const result = await runCommand(process.execPath, [`${repositoryRoot}e2e/dist/demo.js`]);
    expect(result.stderr).not.toContain('Error:');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Pushed \[registry\] 127\.0\.0\.1:\d+\/demo\/tiny-model:v1,latest/,
    );
    expect(result.stdout).toContain('ArtifactType: application/vnd.example.model.v1');
    expect(result.stdout).toMatch(/└── application\/spdx\+json/);
    expect(result.stdout).toContain('Round trip verified: 3 files, byte for byte:');
    expect(result.stdout).toContain('ArtifactType: application/vnd.cncf.model.manifest.v1+json');
    expect(result.stdout).toMatch(/Parameters: +524k/);
    expect(result.stdout).toContain(
      'Model round trip verified: 5 files as CNCF ModelPack; --only weights pulled model.safetensors',
    );
    expect(result.stdout).toMatch(
      /Pushed \[registry\] 127\.0\.0\.1:\d+\/demo\/tap\/hello-ferry:1\.0 \(2 bottles\)/,
    );
    expect(result.stdout).toMatch(/Downloaded .*hello-ferry--1\.0\.arm64_sonoma\.bottle\.tar\.gz/);
    expect(result.stdout).toMatch(
      /Downloaded .*libgreet--2\.1\.arm64_sonoma\.bottle\.tar\.gz .*\(needed by hello-ferry\)/,
    );
    expect(result.stdout).toContain('Cellar/hello-ferry/1.0/bin/hello-ferry');
    expect(result.stdout).toContain('Registry stopped and its storage removed.');
  });
});
