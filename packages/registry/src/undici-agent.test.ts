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
      const require = createRequire(import.meta.url);
      const loaded = Object.keys(require.cache);
      const dispatcher = loaded.find((path) => /undici[\\\\/]lib[\\\\/]dispatcher[\\\\/]dispatcher\\.js$/.test(path));
      console.log(JSON.stringify({
        agent: typeof EnvHttpProxyAgent, request: typeof request,
        connect: typeof require(dispatcher).prototype.connect,
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
      // ProxyAgent's CONNECT: without it every request through HTTP(S)_PROXY failed.
      connect: 'function',
      index: false,
      fetch: false,
    });
  });
});
