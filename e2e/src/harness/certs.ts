import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './process.js';
import { OPENSSL, ensureToolOnce } from './tool-install.js';

async function openssl(args: string[]): Promise<void> {
  // Found on PATH (or FERRY_E2E_OPENSSL), installed with apt-get as root, else a clear error.
  const program = await ensureToolOnce(OPENSSL, (line) => process.stderr.write(`${line}\n`));
  let result;
  try {
    result = await run(program, args, { timeoutMs: 60_000 });
  } catch (err) {
    throw new Error(`cannot run ${program} (needed to make per-run test certificates): ${err}`);
  }
  if (result.code !== 0) {
    throw new Error(`openssl ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr}`);
  }
}

export interface SigningCert {
  keyFile: string;
  certFile: string;
  keyPem: string;
  certPem: string;
}

/**
 * The token server's signing key. It is self-signed because the registry only needs to find the
 * JWT's x5c certificate in its rootcertbundle; a chain would add nothing but failure modes.
 */
export async function makeTokenSigningCert(dir: string): Promise<SigningCert> {
  await mkdir(dir, { recursive: true });
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '1',
    '-subj',
    '/CN=ferry-e2e-token',
  ]);
  return {
    keyFile,
    certFile,
    keyPem: await readFile(keyFile, 'utf8'),
    certPem: await readFile(certFile, 'utf8'),
  };
}

export interface TlsCerts {
  caFile: string;
  caPem: string;
  certFile: string;
  keyFile: string;
}

/**
 * A throwaway CA plus a server certificate for 127.0.0.1 and localhost, so TLS tests exercise real
 * verification (--ca-file) instead of switching verification off.
 */
export async function makeTlsCerts(dir: string): Promise<TlsCerts> {
  await mkdir(dir, { recursive: true });
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'server.key');
  const csrFile = join(dir, 'server.csr');
  const certFile = join(dir, 'server.crt');
  const extFile = join(dir, 'server.ext');

  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '1',
    '-subj',
    '/CN=ferry-e2e-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    csrFile,
    '-subj',
    '/CN=127.0.0.1',
  ]);
  // Modern verifiers ignore the CN, so the SAN is what actually makes 127.0.0.1 and localhost valid.
  await writeFile(
    extFile,
    [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    caFile,
    '-CAkey',
    caKey,
    // An explicit serial avoids -CAcreateserial dropping a .srl file next to the CA.
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-out',
    certFile,
    '-days',
    '1',
    '-extfile',
    extFile,
  ]);
  // The CA key has no further use; deleting it keeps anything else from minting certs it would trust.
  await rm(caKey, { force: true });
  await rm(csrFile, { force: true });
  return { caFile, caPem: await readFile(caFile, 'utf8'), certFile, keyFile };
}

export interface ClientCerts {
  /** The client CA the registry trusts (`http.tls.clientcas`). */
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A throwaway client CA and a client certificate it signed, for mutual TLS. */
export async function makeClientCerts(dir: string): Promise<ClientCerts> {
  await mkdir(dir, { recursive: true });
  const caKey = join(dir, 'client-ca.key');
  const caFile = join(dir, 'client-ca.crt');
  const keyFile = join(dir, 'client.key');
  const csrFile = join(dir, 'client.csr');
  const certFile = join(dir, 'client.crt');
  const extFile = join(dir, 'client.ext');
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '1',
    '-subj',
    '/CN=ferry-e2e-client-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    csrFile,
    '-subj',
    '/CN=ferry-e2e-client',
  ]);
  await writeFile(
    extFile,
    ['basicConstraints=critical,CA:FALSE', 'extendedKeyUsage=clientAuth', ''].join('\n'),
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    caFile,
    '-CAkey',
    caKey,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-out',
    certFile,
    '-days',
    '1',
    '-extfile',
    extFile,
  ]);
  await rm(caKey, { force: true });
  await rm(csrFile, { force: true });
  return { caFile, certFile, keyFile };
}
