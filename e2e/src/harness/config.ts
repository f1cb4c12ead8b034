import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';

export type RegistryAuthConfig =
  | { kind: 'none' }
  | { kind: 'htpasswd'; realm: string; path: string }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface RegistryConfigOptions {
  port: number;
  storageDir: string;
  auth: RegistryAuthConfig;
  /** clientCas: CA files a client certificate must chain to (mutual TLS). */
  tls?: { certificate: string; key: string; clientCas?: string[] };
}

// JSON strings are valid YAML double-quoted scalars, so this quotes paths safely without a YAML library.
const q = (s: string): string => JSON.stringify(s);

/** Renders registry:2's config.yml; everything a test relies on is set explicitly, not defaulted. */
export function renderRegistryConfig(opts: RegistryConfigOptions): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(opts.storageDir)}`,
    '  delete:',
    '    enabled: true',
    // The purger walks storage in the background and would race with the temp dir being removed.
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${q(`127.0.0.1:${opts.port}`)}`,
    // Without a secret the registry logs a warning on every start and upload state is signed with a
    // random key, which is fine for one instance but noisy.
    `  secret: ${q(randomBytes(16).toString('hex'))}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
  ];
  if (opts.tls) {
    lines.push(
      '  tls:',
      `    certificate: ${q(opts.tls.certificate)}`,
      `    key: ${q(opts.tls.key)}`,
    );
    if (opts.tls.clientCas?.length) {
      lines.push('    clientcas:', ...opts.tls.clientCas.map((file) => `      - ${q(file)}`));
    }
  }
  const auth = opts.auth;
  if (auth.kind === 'htpasswd') {
    lines.push('auth:', '  htpasswd:', `    realm: ${q(auth.realm)}`, `    path: ${q(auth.path)}`);
  } else if (auth.kind === 'token') {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${q(auth.realm)}`,
      `    service: ${q(auth.service)}`,
      `    issuer: ${q(auth.issuer)}`,
      `    rootcertbundle: ${q(auth.rootCertBundle)}`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * registry:2 only accepts bcrypt entries. A low cost keeps per-request verification (the registry
 * re-checks the password on every request) cheap; these are throwaway test passwords.
 */
export async function writeHtpasswd(
  path: string,
  users: { username: string; password: string }[],
): Promise<void> {
  const lines = await Promise.all(
    users.map(async (u) => `${u.username}:${await bcrypt.hash(u.password, 5)}`),
  );
  await writeFile(path, lines.join('\n') + '\n', { mode: 0o600 });
}
