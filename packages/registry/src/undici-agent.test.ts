import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('loading undici', () => {
  it('loads only the agent and request modules, not the whole package', () => {
    // A fresh process (the test runner may have loaded all of undici), on the built module.
    const agentModule = fileURLToPath(new URL('../dist/undici-agent.js', import.meta.url));
    const script = `
      import { createRequire } from 'node:module';
      const { EnvHttpProxyAgent, request } = await import(${JSON.stringify(agentModule)});
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({
        agent: typeof EnvHttpProxyAgent, request: typeof request,
        index: loaded.some((path) => /undici[\\\\/]index\\.js$/.test(path)),
        fetch: loaded.some((path) => /undici[\\\\/]lib[\\\\/]web[\\\\/]fetch/.test(path)),
      }));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(JSON.parse(output)).toEqual({
      agent: 'function',
      request: 'function',
      index: false,
      fetch: false,
    });
  });
});
