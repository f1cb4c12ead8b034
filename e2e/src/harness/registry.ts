import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { makeClientCerts, makeTlsCerts, makeTokenSigningCert } from './certs.js';
import { renderRegistryConfig, writeHtpasswd } from './config.js';
import type { RegistryAuthConfig } from './config.js';
import { registerExitCleanup } from './exit-cleanup.js';
import { freePort, sleep } from './process.js';
import { launchRegistry } from './registry-process.js';
import type { RegistryProcess } from './registry-process.js';
import { resolveRegistrySource } from './registry-source.js';
import type { RegistrySource } from './registry-source.js';
import { startTokenServer } from './token-server.js';
import type { IssuedToken, TokenServer } from './token-server.js';

export type RegistryMode = 'anonymous' | 'basic' | 'token' | 'tls';

export interface TestUser {
  username: string;
  password: string;
  /**
   * Enforced only in token mode: htpasswd has no notion of permissions, so in basic mode both users
   * can do everything.
   */
  access: 'read-write' | 'pull-only';
}

export interface TestRegistry {
  mode: RegistryMode;
  /** "127.0.0.1:PORT", the form a CLI takes in references. */
  host: string;
  /** "http://127.0.0.1:PORT", or https:// in tls mode. */
  url: string;
  /** PEM file of the per-run CA (tls mode). */
  caFile?: string;
  caPem?: string;
  /** tls mode with clientCa: a client certificate (PEM files) the registry accepts. */
  clientCert?: { certFile: string; keyFile: string };
  /** basic/token: [read-write "ferry", pull-only "reader"]; empty otherwise. */
  users: TestUser[];
  tokenServer?: {
    /** The token endpoint (= the realm in the registry's Bearer challenge). */
    url: string;
    service: string;
    issuer: string;
    readonly issued: number;
    readonly log: readonly IssuedToken[];
  };
  storageDir: string;
  pid: number;
  workDir: string;
  configFile: string;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  mode: RegistryMode;
  log?: (s: string) => void;
  /** How long to wait for /v2/ to answer; 20 s by default. */
  readyTimeoutMs?: number;
  /** Skips detection (Docker, PATH, apt) and uses this source, e.g. to pin a specific binary. */
  source?: RegistrySource;
  /** tls mode: require a client certificate from a per-run client CA (mutual TLS). */
  clientCa?: boolean;
}

export class RegistryStartError extends Error {
  constructor(
    reason: string,
    readonly output: string,
    readonly config: string,
  ) {
    super(
      `${reason}\n--- registry output (last lines) ---\n${output || '(none)'}\n` +
        `--- config.yml ---\n${config}`,
    );
    this.name = 'RegistryStartError';
  }
}

const SERVICE = 'ferry-e2e-registry';
const ISSUER = 'ferry-e2e-token-issuer';
const PORT_ATTEMPTS = 3;

function makeUsers(mode: RegistryMode): TestUser[] {
  if (mode !== 'basic' && mode !== 'token') return [];
  const secret = () => randomBytes(9).toString('base64url');
  return [
    { username: 'ferry', password: `rw-${secret()}`, access: 'read-write' },
    { username: 'reader', password: `ro-${secret()}`, access: 'pull-only' },
  ];
}

async function waitUntilReady(
  proc: RegistryProcess,
  url: string,
  mode: RegistryMode,
  dispatcher: Agent | undefined,
  timeoutMs: number,
): Promise<string | null> {
  const expected = mode === 'basic' || mode === 'token' ? 401 : 200;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const exited = await proc.exitStatus();
    if (exited !== null) return `registry ${exited} before /v2/ answered`;
    try {
      const res = await fetch(`${url}/v2/`, { dispatcher, signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      const api = res.headers.get('docker-distribution-api-version');
      // If another server grabbed the port first, it is what answers while our registry dies of
      // "address already in use"; only a registry answer with our process still alive counts.
      const ours = api === 'registry/2.0' && (await proc.exitStatus()) === null;
      if (res.status === expected && ours) return null;
      // A wrong answer is a misconfiguration or someone else's server; waiting would not fix it.
      return `GET ${url}/v2/ answered ${res.status} (API version header ${api}), expected ${expected} from registry/2.0`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      last = cause?.code ?? cause?.message ?? String(err);
    }
    await sleep(100);
  }
  return `GET ${url}/v2/ did not answer within ${timeoutMs} ms (last error: ${last})`;
}

export async function startRegistry(opts: StartRegistryOptions): Promise<TestRegistry> {
  const { mode } = opts;
  const log = opts.log ?? (() => {});
  const source = opts.source ?? (await resolveRegistrySource(log));
  const workDir = await mkdtemp(join(tmpdir(), 'ferry-e2e-'));
  const forgetDir = registerExitCleanup(() => rmSync(workDir, { recursive: true, force: true }));
  let tokenServer: TokenServer | undefined;
  let proc: RegistryProcess | undefined;
  let forgetProc: (() => void) | undefined;
  let dispatcher: Agent | undefined;

  const cleanup = async () => {
    await proc?.stop();
    forgetProc?.();
    await tokenServer?.close();
    await dispatcher?.close();
    await rm(workDir, { recursive: true, force: true, maxRetries: 3 });
    forgetDir();
  };

  try {
    const storageDir = join(workDir, 'storage');
    await mkdir(storageDir);
    const users = makeUsers(mode);
    let auth: RegistryAuthConfig = { kind: 'none' };
    let tls: { certificate: string; key: string; clientCas?: string[] } | undefined;
    let clientCert: { certFile: string; keyFile: string } | undefined;
    let caFile: string | undefined;
    let caPem: string | undefined;

    if (mode === 'basic') {
      const path = join(workDir, 'htpasswd');
      await writeHtpasswd(path, users);
      auth = { kind: 'htpasswd', realm: 'ferry-e2e', path };
    } else if (mode === 'token') {
      const signing = await makeTokenSigningCert(join(workDir, 'token'));
      tokenServer = await startTokenServer({
        service: SERVICE,
        issuer: ISSUER,
        keyPem: signing.keyPem,
        certPem: signing.certPem,
        accounts: users.map((u) => ({
          username: u.username,
          password: u.password,
          actions: u.access === 'read-write' ? ['pull', 'push', 'delete'] : ['pull'],
          catalog: u.access === 'read-write',
        })),
      });
      auth = {
        kind: 'token',
        realm: tokenServer.url,
        service: SERVICE,
        issuer: ISSUER,
        rootCertBundle: signing.certFile,
      };
    } else if (mode === 'tls') {
      const certs = await makeTlsCerts(join(workDir, 'tls'));
      tls = { certificate: certs.certFile, key: certs.keyFile };
      ({ caFile, caPem } = certs);
      if (opts.clientCa) {
        const client = await makeClientCerts(join(workDir, 'client'));
        tls.clientCas = [client.caFile];
        clientCert = { certFile: client.certFile, keyFile: client.keyFile };
        // The readiness probe must show a certificate too.
        dispatcher = new Agent({
          connect: {
            ca: caPem,
            cert: await readFile(client.certFile, 'utf8'),
            key: await readFile(client.keyFile, 'utf8'),
          },
        });
      } else {
        dispatcher = new Agent({ connect: { ca: caPem } });
      }
    }

    const scheme = mode === 'tls' ? 'https' : 'http';
    const configFile = join(workDir, 'config.yml');
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const config = renderRegistryConfig({ port, storageDir, auth, tls });
      await writeFile(configFile, config);
      const url = `${scheme}://127.0.0.1:${port}`;
      log(`starting registry:2 (${mode}) at ${url}, workDir ${workDir}`);
      const started = await launchRegistry(source, workDir, configFile, log);
      proc = started;
      forgetProc = registerExitCleanup(() => started.killSync());
      log(`launched ${started.description}`);
      const failure = await waitUntilReady(
        started,
        url,
        mode,
        dispatcher,
        opts.readyTimeoutMs ?? 20_000,
      );
      if (failure === null) {
        log(`registry:2 ready: ${started.description}`);
        await dispatcher?.close();
        dispatcher = undefined;
        let stopping: Promise<void> | undefined;
        return {
          mode,
          host: `127.0.0.1:${port}`,
          url,
          caFile,
          caPem,
          ...(clientCert ? { clientCert } : {}),
          users,
          tokenServer,
          storageDir,
          pid: started.pid,
          workDir,
          configFile,
          stop: () => (stopping ??= cleanup()),
        };
      }
      // Stop first so the output is complete: a registry that lost its port may not have said so yet.
      await started.stop();
      forgetProc();
      const output = await started.outputTail();
      // Another process can grab the port between freePort() closing it and the registry binding it.
      if (/address already in use/i.test(output) && attempt < PORT_ATTEMPTS) {
        log(`port ${port} was taken before the registry bound it; retrying`);
        continue;
      }
      throw new RegistryStartError(
        `registry:2 (${mode}) via ${started.description} did not come up: ${failure}`,
        output,
        config,
      );
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
}
