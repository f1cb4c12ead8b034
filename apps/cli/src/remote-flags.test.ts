/**
 * Issue 18 item 3 at the command line: -H, --resolve, --cert-file/--key-file and
 * --distribution-spec (and cp's --from-…/--to-…) reach the registry client, and bad values are
 * refused with exit 2 and a message naming them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from './exit.js';
import { connectionOptions, parseHeaders, parseResolve } from './remote-flags.js';
import { runCaptured as ferry } from './run-captured.js';
import {
  sendJson,
  startRecordingServer,
  type RecordingServer,
} from './testing/recording-server.js';

let servers: RecordingServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** A registry that knows no repository: every command against it fails after a request. */
async function emptyRegistry(): Promise<RecordingServer> {
  const server = await startRecordingServer((_req, res) =>
    sendJson(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'unknown' }] }),
  );
  servers.push(server);
  return server;
}

describe('parseHeaders', () => {
  it('splits at the first colon, trims, and collects repeats', () => {
    expect(parseHeaders(['X-Team: ml', 'x-team:ops', 'X-Url: http://a:1/b '], '-H')).toEqual({
      'x-team': ['ml', 'ops'],
      'x-url': ['http://a:1/b'],
    });
  });

  it.each([
    ['no colon', "give a header as 'Name: value'"],
    [': value', "give a header as 'Name: value'"],
    ['Bad Name: v', "give a header as 'Name: value'"],
    ['Host: evil.example', 'Host is set by ferry itself'],
    ['Content-Length: 5', 'Content-Length is set by ferry itself'],
  ])('refuses %j', (value, message) => {
    expect(() => parseHeaders([value], '--from-header')).toThrow(
      `--from-header ${JSON.stringify(value)}: ${message}`,
    );
  });
});

describe('parseResolve', () => {
  it('reads host:port:address[:port], IPv6 in brackets', () => {
    expect(parseResolve('registry.test:443:127.0.0.1', '--resolve')).toEqual({
      host: 'registry.test',
      port: 443,
      address: '127.0.0.1',
    });
    expect(parseResolve('registry.test:5000:[::1]:5001', '--resolve')).toEqual({
      host: 'registry.test',
      port: 5000,
      address: '::1',
      addressPort: 5001,
    });
  });

  it.each([
    'registry.test:443',
    'registry.test:443:not-an-ip',
    'r:0:1.2.3.4',
    'r:80:1.2.3.4:99999',
    'r:x:1.2.3.4',
  ])('refuses %j naming it', (value) => {
    expect(() => parseResolve(value, '--resolve')).toThrow(
      `--resolve ${JSON.stringify(value)}: give host:port:address[:port] with an IP address`,
    );
  });
});

describe('connectionOptions by role', () => {
  const args = {
    header: ['X-A: plain'],
    'from-header': ['X-A: from'],
    'to-resolve': ['r:1:127.0.0.1'],
    'to-distribution-spec': 'v1.1-referrers-tag' as const,
    'from-distribution-spec': 'v1.1-referrers-api' as const,
  };
  it('gives cp’s source its --from- flags only, and its destination --to- or else the plain ones', async () => {
    expect(await connectionOptions(args, 'from')).toEqual({
      headers: { 'x-a': ['from'] },
      referrersApi: true,
    });
    expect(await connectionOptions(args, 'to')).toEqual({
      headers: { 'x-a': ['plain'] },
      resolve: [{ host: 'r', port: 1, address: '127.0.0.1' }],
      referrersApi: false,
    });
    expect(await connectionOptions(args, 'default')).toEqual({ headers: { 'x-a': ['plain'] } });
  });

  it('gives each end of cp its own --from-/--to- insecure and plain-http, and refuses an unreadable CA file', async () => {
    const ends = { 'from-insecure': true, 'to-plain-http': true };
    expect(await connectionOptions(ends, 'from')).toEqual({ insecure: true });
    expect(await connectionOptions(ends, 'to')).toEqual({ plainHttp: true });
    expect(await connectionOptions(ends, 'default')).toEqual({});
    await expect(connectionOptions({ 'to-ca-file': '/nonexistent/ca.pem' }, 'to')).rejects.toThrow(
      '--to-ca-file "/nonexistent/ca.pem": cannot read it (ENOENT)',
    );
  });
});

describe('the flags on the command line', () => {
  it('-H goes on every request of a command, repeated headers included', async () => {
    const registry = await emptyRegistry();
    const { code } = await ferry(
      'manifest',
      'fetch',
      `${registry.host}/a:v1`,
      '--plain-http',
      '-H',
      'X-Team: ml',
      '--header',
      'X-Team: ops',
    );
    expect(code).toBe(ExitCode.Failure);
    expect(registry.requests.length).toBeGreaterThan(0);
    expect(registry.requests.map((r) => r.headers['x-team'])).toEqual(
      registry.requests.map(() => 'ml, ops'),
    );
  });

  it('cp sends --from-header to the source and --to-header to the destination only', async () => {
    const source = await emptyRegistry();
    const destination = await emptyRegistry();
    const { code } = await ferry(
      'cp',
      `${source.host}/a:v1`,
      `${destination.host}/b:v1`,
      '--from-header',
      'X-Side: source',
      '--to-header',
      'X-Side: destination',
      '--plain-http',
    );
    expect(code).toBe(ExitCode.Failure);
    expect(source.requests.length).toBeGreaterThan(0);
    expect(source.requests.map((r) => r.headers['x-side'])).toEqual(
      source.requests.map(() => 'source'),
    );
    expect(destination.requests.map((r) => r.headers['x-side'])).toEqual(
      destination.requests.map(() => 'destination'),
    );
  });

  it('--resolve takes a name that does not exist to the loopback registry', async () => {
    const registry = await emptyRegistry();
    const port = registry.host.split(':')[1] ?? '';
    const { code, stderr } = await ferry(
      'manifest',
      'fetch',
      `registry.test:${port}/a:v1`,
      '--plain-http',
      '--resolve',
      `registry.test:${port}:127.0.0.1`,
    );
    expect(code).toBe(ExitCode.Failure);
    expect(stderr).not.toContain('ENOTFOUND');
    expect(registry.requests[0]?.headers.host).toBe(`registry.test:${port}`);
  });

  it.each([
    [['-H', 'nonsense'], '--header "nonsense": give a header as'],
    [
      ['--resolve', 'registry.test:443'],
      '--resolve "registry.test:443": give host:port:address[:port]',
    ],
    [['--cert-file', 'client.crt'], '--cert-file needs --key-file'],
    [['--key-file', 'client.key'], '--key-file needs --cert-file'],
    [
      ['--cert-file', '/nonexistent/c.pem', '--key-file', '/nonexistent/k.pem'],
      '--cert-file "/nonexistent/c.pem": cannot read it (ENOENT)',
    ],
  ])('refuses %j with exit 2 before any request', async (flags, message) => {
    const registry = await emptyRegistry();
    const { code, stderr } = await ferry('manifest', 'fetch', `${registry.host}/a:v1`, ...flags);
    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toContain(message);
    expect(registry.requests).toEqual([]);
  });

  it('--distribution-spec takes ORAS’s two values only', async () => {
    const { code, stderr } = await ferry(
      'discover',
      'localhost:5000/a:v1',
      '--distribution-spec',
      'v1.0',
    );
    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toContain('v1.1-referrers-api');
  });
});

describe('where the flags are offered', () => {
  it.each([['attach'], ['discover'], ['manifest', 'push'], ['backup'], ['restore']])(
    '%s has --distribution-spec, with ORAS’s values',
    async (...command) => {
      const { code, stdout } = await ferry(...command, '--help');
      expect(code).toBe(0);
      expect(stdout).toContain('--distribution-spec');
      expect(stdout).toContain('"v1.1-referrers-api", "v1.1-referrers-tag"');
    },
  );

  it.each([['pull'], ['login'], ['blob', 'fetch'], ['bottle', 'pull']])(
    '%s has -H, --resolve, --cert-file and --key-file',
    async (...command) => {
      const { stdout } = await ferry(...command, '--help');
      for (const flag of ['-H, --header', '--resolve', '--cert-file', '--key-file']) {
        expect(stdout).toContain(flag);
      }
    },
  );

  it('cp has --from- and --to- of each', async () => {
    const { stdout } = await ferry('cp', '--help');
    for (const end of ['from', 'to']) {
      for (const name of [
        'header',
        'resolve',
        'cert-file',
        'key-file',
        'distribution-spec',
        'ca-file',
        'insecure',
        'plain-http',
      ]) {
        expect(stdout).toContain(`--${end}-${name}`);
      }
    }
  });
});

// The client-certificate hint: exit.test.ts.
