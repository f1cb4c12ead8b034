/**
 * Issue 13 items 1 and 2 through the command line: the password given with -u/--password-stdin,
 * found in config.json, or typed to `ferry login` reaches the registry it was given for and
 * nothing else. Loopback servers play the hosts that should not get it and record what they saw.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runWithStdin } from './run-captured.js';
import {
  basic,
  sendJson,
  startRecordingServer,
  type RecordingServer,
} from './testing/recording-server.js';

const PASSWORD = 'alice-s3cret';
const ALICE = basic('alice', PASSWORD);

let servers: RecordingServer[] = [];
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-cli-creds-'));
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await rm(dir, { recursive: true, force: true });
});

async function server(): Promise<RecordingServer> {
  const started = await startRecordingServer();
  servers.push(started);
  return started;
}

/** Registry → realm → (302) attacker: the token request is redirected to another origin. */
async function redirectingRealm() {
  const attacker = await server();
  attacker.handle = (_req, res) => sendJson(res, 200, { token: 'good-token' });
  const realm = await server();
  realm.handle = (req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').search;
    res.writeHead(302, { location: `${attacker.origin}/token${query}`, 'content-length': 0 });
    res.end();
  };
  const registry = await server();
  registry.handle = (req, res) => {
    if (req.headers.authorization === 'Bearer good-token') {
      return sendJson(res, 200, req.url === '/v2/' ? {} : { name: 'a/b', tags: ['v1'] });
    }
    sendJson(
      res,
      401,
      { errors: [{ code: 'UNAUTHORIZED' }] },
      {
        'www-authenticate': `Bearer realm="${realm.origin}/token",service="registry"`,
      },
    );
  };
  return { attacker, realm, registry };
}

describe('a token realm redirecting to another origin gets no password (issue 13 item 1)', () => {
  it('with -u and --password-stdin', async () => {
    const { attacker, realm, registry } = await redirectingRealm();
    const result = await runWithStdin(
      `${PASSWORD}\n`,
      'repo',
      'tags',
      `${registry.host}/a/b`,
      '--plain-http',
      '-u',
      'alice',
      '--password-stdin',
      '--registry-config',
      join(dir, 'config.json'),
    );
    expect(result).toMatchObject({ code: 0, stdout: 'v1\n' });
    expect(realm.secrets()).toEqual([ALICE]);
    expect(attacker.requests).toHaveLength(1);
    expect(attacker.secrets()).toEqual([]);
  });

  it('with credentials from config.json', async () => {
    const { attacker, realm, registry } = await redirectingRealm();
    const config = join(dir, 'config.json');
    const auth = Buffer.from(`alice:${PASSWORD}`).toString('base64');
    await writeFile(config, JSON.stringify({ auths: { [registry.host]: { auth } } }));
    const result = await runWithStdin(
      undefined,
      'repo',
      'tags',
      `${registry.host}/a/b`,
      '--plain-http',
      '--registry-config',
      config,
    );
    expect(result).toMatchObject({ code: 0, stdout: 'v1\n' });
    expect(realm.secrets()).toEqual([ALICE]);
    expect(attacker.secrets()).toEqual([]);
  });

  it('during ferry login', async () => {
    const { attacker, realm, registry } = await redirectingRealm();
    const config = join(dir, 'config.json');
    const result = await runWithStdin(
      `${PASSWORD}\n`,
      'login',
      registry.host,
      '--plain-http',
      '-u',
      'alice',
      '--password-stdin',
      '--registry-config',
      config,
    );
    expect(result).toMatchObject({ code: 0, stdout: 'Login Succeeded\n' });
    expect(realm.secrets()).toEqual([ALICE]);
    expect(attacker.requests).toHaveLength(1);
    expect(attacker.secrets()).toEqual([]);
    expect(await readFile(config, 'utf8')).toContain(registry.host);
  });
});

/** A registry that wants one Basic password and answers 404 for every manifest once it has it. */
function wantsBasic(expected: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.authorization !== expected) {
      return sendJson(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED' }] },
        {
          'www-authenticate': 'Basic realm="registry"',
        },
      );
    }
    sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
  };
}

describe('flag credentials belong to the registry they were given for (issue 13 item 2)', () => {
  it("cp SRC DST -u … --password-stdin: the source never receives the destination's password", async () => {
    const source = await server();
    source.handle = wantsBasic('Basic bm90LXRoaXM=');
    const destination = await server();
    destination.handle = wantsBasic(ALICE);
    const result = await runWithStdin(
      `${PASSWORD}\n`,
      'cp',
      `${source.host}/src:v1`,
      `${destination.host}/dst:v1`,
      '--plain-http',
      '-u',
      'alice',
      '--password-stdin',
      '--registry-config',
      join(dir, 'config.json'),
    );
    expect(result.code).toBe(1);
    expect(source.requests.length).toBeGreaterThan(0);
    expect(source.secrets()).toEqual([]);
  });

  it('cp --from-… goes to the source and --to-… to the destination, each alone', async () => {
    const source = await server();
    const bob = basic('bob', 'bob-s3cret');
    source.handle = wantsBasic(bob);
    const destination = await server();
    destination.handle = wantsBasic(ALICE);
    const result = await runWithStdin(
      'bob-s3cret\n',
      'cp',
      `${source.host}/src:v1`,
      `${destination.host}/dst:v1`,
      '--plain-http',
      '--from-username',
      'bob',
      '--from-password-stdin',
      '--to-username',
      'alice',
      '--to-password',
      PASSWORD,
      '--registry-config',
      join(dir, 'config.json'),
    );
    // The source answered 404 once it had bob's password: the copy failed there, as it should.
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/v2/src/manifests/v1: 404');
    expect(new Set(source.secrets())).toEqual(new Set([bob]));
    expect(destination.secrets()).not.toContain(bob);
  });

  it("bottle mirror -u … --password-stdin: the source registry never receives the destination's password", async () => {
    const source = await server();
    source.handle = wantsBasic('Basic bm90LXRoaXM=');
    const destination = await server();
    destination.handle = wantsBasic(ALICE);
    const result = await runWithStdin(
      `${PASSWORD}\n`,
      'bottle',
      'mirror',
      'hello',
      '--registry',
      source.host,
      '--to',
      `${destination.host}/homebrew/core`,
      '--plain-http',
      '-u',
      'alice',
      '--password-stdin',
      '--registry-config',
      join(dir, 'config.json'),
    );
    expect(result.code).toBe(1);
    expect(source.requests.length).toBeGreaterThan(0);
    expect(source.secrets()).toEqual([]);
  });

  it('cp refuses two readers of stdin and the destination credentials given twice', async () => {
    const both = await runWithStdin(
      'x\n',
      'cp',
      'localhost:1/a:v1',
      'localhost:1/b:v1',
      '--from-password-stdin',
      '--to-password-stdin',
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain(
      '--from-password-stdin and --to-password-stdin cannot be used together',
    );
    const twice = await runWithStdin(
      undefined,
      'cp',
      'localhost:1/a:v1',
      'localhost:1/b:v1',
      '-u',
      'a',
      '--to-username',
      'b',
    );
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("give the destination's credentials once");
  });

  it('a Link rel="next" on another host that answers 401 never receives the -u password', async () => {
    const attacker = await server();
    attacker.handle = (_req, res) =>
      sendJson(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED' }] },
        {
          'www-authenticate': 'Basic realm="attacker"',
        },
      );
    const registry = await server();
    registry.handle = (req, res) => {
      if (req.headers.authorization !== ALICE) return wantsBasic(ALICE)(req, res);
      sendJson(
        res,
        200,
        { name: 'a/b', tags: ['v1'] },
        {
          link: `<${attacker.origin}/v2/a/b/tags/list?last=v1>; rel="next"`,
        },
      );
    };
    const result = await runWithStdin(
      `${PASSWORD}\n`,
      'repo',
      'tags',
      `${registry.host}/a/b`,
      '--plain-http',
      '-u',
      'alice',
      '--password-stdin',
      '--registry-config',
      join(dir, 'config.json'),
    );
    expect(result.code).toBe(1);
    expect(registry.secrets()).toContain(ALICE);
    expect(attacker.requests).toHaveLength(1);
    expect(attacker.secrets()).toEqual([]);
  });
});

describe("Homebrew's static tokens go to the bottle registry only (issue 13 item 3)", () => {
  for (const [variable, value, header] of [
    ['HOMEBREW_DOCKER_REGISTRY_TOKEN', 'ghp_secret', 'Bearer ghp_secret'],
    ['HOMEBREW_DOCKER_REGISTRY_BASIC_AUTH_TOKEN', 'dXNlcjpwYXNz', 'Basic dXNlcjpwYXNz'],
  ] as const) {
    it(`${variable}: a Link host gets nothing on its first request`, async () => {
      const attacker = await server();
      attacker.handle = (_req, res) => sendJson(res, 200, { name: 'x', tags: ['2.0'] });
      const registry = await server();
      registry.handle = (req, res) => {
        if (req.url?.startsWith('/v2/homebrew/core/hello/tags/list')) {
          return sendJson(
            res,
            200,
            { name: 'homebrew/core/hello', tags: ['1.0'] },
            {
              link: `<${attacker.origin}/v2/homebrew/core/hello/tags/list?last=1.0>; rel="next"`,
            },
          );
        }
        sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'unknown' }] });
      };
      const saved = process.env[variable];
      process.env[variable] = value;
      try {
        await runWithStdin(
          undefined,
          'bottle',
          'info',
          'hello',
          '--registry',
          registry.host,
          '--plain-http',
        );
      } finally {
        if (saved === undefined) delete process.env[variable];
        else process.env[variable] = saved;
      }
      expect(registry.secrets()[0]).toBe(header);
      expect(attacker.requests.length).toBeGreaterThan(0);
      expect(attacker.secrets()).toEqual([]);
    });
  }
});
