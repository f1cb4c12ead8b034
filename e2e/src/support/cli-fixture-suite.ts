// The shared suite behind cli-commands-<mode>.test.ts: every ferry command, run as the built
// binary against a registry:2 of that mode.
import { describe } from 'vitest';
import type { RegistryMode } from '../harness/index.js';
import { useCliFixture, type CliFixture } from './cli-fixture.js';
import { errorTests } from './cli-fixture-errors.js';
import { graphTests } from './cli-fixture-graph.js';
import { manageTests } from './cli-fixture-manage.js';
import { pullTests } from './cli-fixture-pull.js';
import { pushTests } from './cli-fixture-push.js';

export function describeCliCommands(mode: RegistryMode, extra?: (fx: CliFixture) => void): void {
  describe(`ferry commands against registry:2 (${mode})`, () => {
    const fx = useCliFixture(mode);
    describe('push', () => pushTests(fx));
    describe('pull', () => pullTests(fx));
    describe('attach, discover, copy, tag, resolve', () => graphTests(fx));
    describe('manifest, blob, repo', () => manageTests(fx));
    describe('errors and --debug', () => errorTests(fx));
    if (extra) describe(`${mode} only`, () => extra(fx));
  });
}
