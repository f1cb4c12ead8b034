/**
 * Parsers of the connection flags of ORAS's remote options (declared in options/remote.ts):
 * -H/--header, --resolve, --cert-file/--key-file on every remote command, --distribution-spec
 * where referrers are written or listed, and cp's --from-…/--to-… of each.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { RegistryOptions, ResolveRule } from '@ferry/registry';
import { UsageError } from './exit.js';
import type { DistributionSpecArgs, EndArgs, RemoteArgs } from './options/remote.js';

/** The connection flags of every end, as their groups declare them (each may be absent). */
export type ConnectionArgs = Partial<RemoteArgs & DistributionSpecArgs & EndArgs>;

type Role = 'default' | 'from' | 'to';
type FlagName = 'header' | 'resolve' | 'cert-file' | 'key-file' | 'distribution-spec';

/**
 * The flag of `role` for `name`, and how it is spelt: cp's source takes `--from-…` only; its
 * destination `--to-…`, or the plain flag (which means the destination, as -u/-p do).
 */
function flag<N extends FlagName>(
  args: ConnectionArgs,
  role: Role,
  name: N,
): { value: ConnectionArgs[N]; spelt: string } {
  if (role === 'from')
    return { value: args[`from-${name}`] as ConnectionArgs[N], spelt: `--from-${name}` };
  if (role === 'to' && args[`to-${name}`] !== undefined) {
    return { value: args[`to-${name}`] as ConnectionArgs[N], spelt: `--to-${name}` };
  }
  return { value: args[name], spelt: `--${name}` };
}

const NAMES: readonly FlagName[] = [
  'header',
  'resolve',
  'cert-file',
  'key-file',
  'distribution-spec',
];

/** The flags as given, to tell apart clients that need different connections. */
export function connectionKey(args: ConnectionArgs, role: Role): string {
  const end = role === 'default' ? [] : endTls(args, role);
  return JSON.stringify([...NAMES.map((name) => flag(args, role, name).value), ...end]);
}

function endTls(args: ConnectionArgs, end: 'from' | 'to') {
  return [args[`${end}-ca-file`], args[`${end}-insecure`], args[`${end}-plain-http`]] as const;
}

/** The RegistryOptions the connection flags of `role` ask for; usage errors name the input. */
export async function connectionOptions(
  args: ConnectionArgs,
  role: Role,
): Promise<Partial<RegistryOptions>> {
  const options: Partial<RegistryOptions> = {};
  const header = flag(args, role, 'header');
  const headers = list(header.value);
  if (headers.length) options.headers = parseHeaders(headers, header.spelt);
  const resolve = flag(args, role, 'resolve');
  const rules = list(resolve.value);
  if (rules.length) options.resolve = rules.map((r) => parseResolve(r, resolve.spelt));
  const cert = flag(args, role, 'cert-file');
  const key = flag(args, role, 'key-file');
  if ((cert.value === undefined) !== (key.value === undefined)) {
    const [given, missing] = cert.value === undefined ? [key, cert] : [cert, key];
    throw new UsageError(
      `${given.spelt} needs ${missing.spelt}: give a client certificate and its private key (PEM) together, or neither`,
    );
  }
  if (cert.value !== undefined && key.value !== undefined) {
    options.cert = await readPem(cert.value, cert.spelt);
    options.key = await readPem(key.value, key.spelt);
  }
  const spec = flag(args, role, 'distribution-spec').value;
  if (spec !== undefined) options.referrersApi = spec === 'v1.1-referrers-api';
  if (role !== 'default') {
    // These win over --ca-file, --insecure and --plain-http, which apply to both ends.
    const [caFile, insecure, plainHttp] = endTls(args, role);
    if (caFile !== undefined) options.ca = await readPem(caFile, `--${role}-ca-file`);
    if (insecure === true) options.insecure = true;
    if (plainHttp === true) options.plainHttp = true;
  }
  return options;
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** RFC 9110 token characters: what a field name may be made of. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers that frame or route the request: ferry sets them, a user's value would break it. */
const RESERVED = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
]);

export function parseHeaders(values: string[], flag: string): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const value of values) {
    const colon = value.indexOf(':');
    const name = colon > 0 ? value.slice(0, colon).trim() : '';
    const text = colon > 0 ? value.slice(colon + 1).trim() : '';
    if (!FIELD_NAME.test(name) || /[\r\n\0]/.test(text)) {
      throw new UsageError(
        `${flag} ${JSON.stringify(value)}: give a header as 'Name: value', like ${flag} 'X-Team: ml'`,
      );
    }
    if (RESERVED.has(name.toLowerCase())) {
      throw new UsageError(
        `${flag} ${JSON.stringify(value)}: ${name} is set by ferry itself and cannot be given`,
      );
    }
    const key = name.toLowerCase();
    (headers[key] ??= []).push(text);
  }
  return headers;
}

/** curl's `host:port:address[:port]`; an IPv6 address goes in brackets, `[::1]`. */
export function parseResolve(value: string, flag: string): ResolveRule {
  const match = /^([^:[\]\s]+):(\d{1,5}):(\[[^\]]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(value);
  const address = match?.[3]?.replace(/^\[(.*)\]$/, '$1') ?? '';
  const port = Number(match?.[2]);
  const addressPort = match?.[4] === undefined ? undefined : Number(match[4]);
  const validPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (
    !match?.[1] ||
    !validPort(port) ||
    (addressPort !== undefined && !validPort(addressPort)) ||
    isIP(address) === 0
  ) {
    throw new UsageError(
      `${flag} ${JSON.stringify(value)}: give host:port:address[:port] with an IP address, like ${flag} registry.example:443:10.0.0.5`,
    );
  }
  return { host: match[1], port, address, ...(addressPort ? { addressPort } : {}) };
}

async function readPem(path: string, flag: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(
      `${flag} ${JSON.stringify(path)}: cannot read it (${String(code ?? error)})`,
    );
  }
  if (!text.includes('-----BEGIN ')) {
    throw new UsageError(`${flag} ${JSON.stringify(path)}: not a PEM file (no -----BEGIN line)`);
  }
  return text;
}
