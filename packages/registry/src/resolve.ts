/**
 * curl's `--resolve host:port:address[:port]`: connections for `host:port` go to `address`
 * (and its port), while the request keeps naming `host` — in the Host header, in TLS SNI and in
 * certificate verification. For registries behind a name that does not resolve (yet) or that
 * must be reached at one particular node.
 */
import type { buildConnector as BuildConnector } from 'undici';
import { buildConnector } from './undici-agent.js';

export interface ResolveRule {
  /** The name as it appears in the registry's URL (case-insensitive). */
  host: string;
  port: number;
  /** The IP address to connect to instead. */
  address: string;
  /** The port to connect to (default: `port`). */
  addressPort?: number | undefined;
}

/**
 * A connector that dials the address a rule names for its `host:port`, and anything else as
 * undici would. The rewrite happens below the request: Host and SNI keep the name, since undici
 * derives both from the origin, not from the address dialled.
 */
export function resolvingConnector(
  rules: readonly ResolveRule[],
  tls: BuildConnector.BuildOptions,
): BuildConnector.connector {
  const connect = buildConnector(tls);
  return (options, callback) => {
    const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
    const hostname = options.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    const rule = findRule(rules, hostname, port);
    if (!rule) return connect(options, callback);
    return connect(
      {
        ...options,
        hostname: rule.address,
        port: String(rule.addressPort ?? rule.port),
        // The name, not the address, is what the certificate must be valid for.
        servername: options.servername ?? (isIpLiteral(hostname) ? undefined : hostname),
      } as BuildConnector.Options,
      callback,
    );
  };
}

function findRule(
  rules: readonly ResolveRule[] | undefined,
  hostname: string,
  port: number,
): ResolveRule | undefined {
  const name = hostname.toLowerCase();
  return rules?.find((r) => r.host.toLowerCase() === name && r.port === port);
}

/** Where to connect for `hostname:port` (without brackets): a rule's address, or the name itself. */
export function resolveAddress(
  rules: readonly ResolveRule[] | undefined,
  hostname: string,
  port: number,
): { address: string; port: number } {
  const rule = findRule(rules, hostname, port);
  return rule
    ? { address: rule.address, port: rule.addressPort ?? rule.port }
    : { address: hostname, port };
}

export function isIpLiteral(name: string): boolean {
  return /^[\d.]+$/.test(name) || name.includes(':');
}
