/**
 * The two parts of undici ferry uses, loaded on their own. `import … from 'undici'` evaluates the
 * whole package (fetch, WebSocket, caches, mocks): 75-90 ms and 19 MiB of RSS at start-up,
 * against about 30 ms and 11 MiB for these modules and what they need. undici has no `exports`
 * map, so the paths are reachable; the types are the package's own.
 */
import { createRequire } from 'node:module';
import type {
  buildConnector as BuildConnector,
  Dispatcher,
  EnvHttpProxyAgent as EnvHttpProxyAgentType,
} from 'undici';

const require = createRequire(import.meta.url);

export const EnvHttpProxyAgent =
  require('undici/lib/dispatcher/env-http-proxy-agent.js') as typeof EnvHttpProxyAgentType;

// ProxyAgent opens its tunnel with `client.connect(…)` (CONNECT), a method the full package adds
// to Dispatcher's prototype when it loads, as it does `request`. Without it every request through
// HTTP(S)_PROXY failed with "this[kClient].connect is not a function".
const DispatcherBase = require('undici/lib/dispatcher/dispatcher.js') as {
  prototype: { connect?: unknown };
};
DispatcherBase.prototype.connect ??= require('undici/lib/api/api-connect.js') as unknown;

const requestWith = require('undici/lib/api/api-request.js') as (
  this: Dispatcher,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;

/**
 * `dispatcher.request(options)` for any Dispatcher: the full package adds `request` to
 * Dispatcher's prototype when it loads, which this module does not do. An injected dispatcher's
 * own `request` (a wrapper, a MockAgent) is used when it has one.
 */
export function request(
  dispatcher: Dispatcher,
  options: Dispatcher.RequestOptions,
): Promise<Dispatcher.ResponseData> {
  const own = (dispatcher as Partial<Dispatcher>).request as
    ((options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>) | undefined;
  return typeof own === 'function'
    ? own.call(dispatcher, options)
    : requestWith.call(dispatcher, options);
}

/** undici's own socket opener (TLS sessions, timeouts, keep-alive), to wrap with --resolve. */
export const buildConnector = require('undici/lib/core/connect.js') as typeof BuildConnector;
