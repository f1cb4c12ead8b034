// Exit codes and hints come from the structure of errors (codes, brands, status, repository,
// reference, the network reason), never from their message text.
import { ArtifactErrorCode } from '@ferry/artifact';
import { HomebrewErrorCode } from '@ferry/homebrew';
import { ModelErrorCode } from '@ferry/model';
import { DigestMismatchError, ErrorCode, FerryError, NotFoundError } from '@ferry/oci';
import {
  CredentialErrorCode,
  NetworkError,
  RegistryError,
  RegistryErrorCode,
} from '@ferry/registry';
import { describe, expect, it } from 'vitest';
import { CliErrorCode } from './errors.js';
import { ExitCode, reportError, UsageError } from './exit.js';

const CLIENT_CERT_HINT =
  'Hint: the registry may require a client certificate: give --cert-file <cert.pem> --key-file <key.pem> (mutual TLS)';
const CA_HINT =
  'Hint: trust the registry with --ca-file <ca.pem>, or skip verification with --insecure';

/** What undici throws: node's socket or TLS error, sometimes under a wrapper without a code. */
function networkError(url: string, code: string | undefined, message: string): NetworkError {
  const cause = Object.assign(new Error(message), code ? { code } : {});
  return new NetworkError({
    method: 'GET',
    url,
    detail: message,
    cause: new TypeError('fetch failed', { cause }),
  });
}

describe('hints for registry answers', () => {
  it('401 → ferry login <host>', () => {
    const error = new RegistryError({
      status: 401,
      method: 'GET',
      url: 'https://ghcr.io/v2/a/b/manifests/v1',
    });
    expect(reportError(error)).toEqual({
      exitCode: ExitCode.Failure,
      lines: [
        `Error: ${error.message}`,
        'Hint: check your credentials, or log in: ferry login ghcr.io',
      ],
    });
  });

  it('a token server’s refusal names the registry to log in to, not the token server', () => {
    const error = new RegistryError({
      status: 401,
      method: 'GET',
      url: 'https://auth.example/token?scope=repository:a:pull',
    });
    error.registry = 'r.example';
    expect(reportError(error).lines[1]).toBe(
      'Hint: check your credentials, or log in: ferry login r.example',
    );
  });

  it('a token server’s answer gets no hint about tags or repositories, whatever its realm path', () => {
    // The realm comes from the registry's WWW-Authenticate: a path shaped like a manifest's and a
    // body saying MANIFEST_UNKNOWN must not make ferry claim a tag is missing.
    for (const registryCode of ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN']) {
      const error = new RegistryError(
        {
          status: 404,
          method: 'GET',
          url: 'https://auth.example/v2/victim/manifests/latest',
          errors: [{ code: registryCode }],
        },
        RegistryErrorCode.TokenExchange,
      );
      error.registry = 'r.example';
      expect(reportError(error).lines).toHaveLength(1);
    }
  });

  it('403 or DENIED → the credentials lack permission', () => {
    const error = new RegistryError({
      status: 403,
      method: 'PUT',
      url: 'https://r.example/v2/a/manifests/v1',
    });
    expect(reportError(error).lines[1]).toBe(
      'Hint: the credentials for r.example lack permission for this operation',
    );
  });

  it('MANIFEST_UNKNOWN, or a bodiless HEAD 404 for a manifest → which tag is missing where', () => {
    const expected =
      'Hint: the tag "v9" was not found in repository localhost:5000/a/b; list tags with: ferry repo tags localhost:5000/a/b';
    const withCode = new RegistryError({
      status: 404,
      method: 'GET',
      url: 'http://localhost:5000/v2/a/b/manifests/v9',
      errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }],
    });
    const head = new RegistryError({
      status: 404,
      method: 'HEAD',
      url: 'http://localhost:5000/v2/a/b/manifests/v9',
    });
    expect(reportError(withCode).lines[1]).toBe(expected);
    expect(reportError(head).lines[1]).toBe(expected);
    const byDigest = new RegistryError({
      status: 404,
      method: 'HEAD',
      url: `http://localhost:5000/v2/a/b/manifests/sha256:${'1'.repeat(64)}`,
    });
    expect(reportError(byDigest).lines[1]).toMatch(/^Hint: the manifest "sha256:1+" was not found/);
  });

  it('fields read from a URL cannot add lines or control sequences to a hint', () => {
    // Repository and reference are decoded from the request path; whatever put %0A or %1B there,
    // the hint stays one line with the controls spelt out.
    const hostile = new RegistryError({
      status: 404,
      method: 'GET',
      url: 'https://r.example/v2/x%0AHint:%20run%20ferry%20login%20evil%1B%5B2J/manifests/v%0D1',
      errors: [{ code: 'MANIFEST_UNKNOWN' }],
    });
    const { lines } = reportError(hostile);
    expect(lines).toHaveLength(2);
    for (const line of lines)
      for (const control of ['\n', '\r', '\u001b']) expect(line).not.toContain(control);
    expect(lines[1]).toContain('x\\u000aHint: run ferry login evil\\u001b[2J');
    const unknown = new RegistryError({
      status: 404,
      method: 'GET',
      url: 'https://r.example/v2/x%0Ay/tags/list',
      errors: [{ code: 'NAME_UNKNOWN' }],
    });
    expect(reportError(unknown).lines[1]).toBe(
      'Hint: the repository r.example/x\\u000ay does not exist (or you may not see it)',
    );
  });

  it('a bodiless 404 for a blob gets no tag hint', () => {
    const blob = new RegistryError({
      status: 404,
      method: 'HEAD',
      url: `http://localhost:5000/v2/a/b/blobs/sha256:${'1'.repeat(64)}`,
    });
    expect(reportError(blob).lines).toHaveLength(1);
  });

  it('NAME_UNKNOWN → the repository; TOOMANYREQUESTS → rate limit', () => {
    const unknown = new RegistryError({
      status: 404,
      method: 'GET',
      url: 'https://r.example/v2/a/b/tags/list',
      errors: [{ code: 'NAME_UNKNOWN' }],
    });
    expect(reportError(unknown).lines[1]).toBe(
      'Hint: the repository r.example/a/b does not exist (or you may not see it)',
    );
    const limited = new RegistryError({
      status: 429,
      method: 'GET',
      url: 'https://r.example/v2/a/b/manifests/v1',
      errors: [{ code: 'TOOMANYREQUESTS' }],
    });
    expect(reportError(limited).lines[1]).toMatch(/^Hint: the registry is rate-limiting you/);
  });

  it('an object that only carries the brands cannot make the report throw', () => {
    // Brands are Symbol.for keys: any code in the process can set them. The report is the last
    // thing a failing command does, so it must survive fields of the wrong type.
    const spoof = Object.assign(new Error('spoofed'), {
      [Symbol.for('ferry.error.registry-response')]: true,
      [Symbol.for('ferry.error.network')]: true,
      code: 'ERR_REGISTRY_RESPONSE',
      status: 404,
      registryCode: 'MANIFEST_UNKNOWN',
      kind: 'manifest',
      repository: 'a/b',
      reference: 42,
      reason: { toString: () => 'x' },
    });
    expect(reportError(spoof)).toEqual({ exitCode: ExitCode.Failure, lines: ['Error: spoofed'] });
  });

  it('a plain FerryError shaped like a registry error (status, url) gets no registry hint', () => {
    const lookalike = Object.assign(new FerryError('ERR_REGISTRY_RESPONSE', 'GET …: 401'), {
      status: 401,
      url: 'https://ghcr.io/v2/a/b/manifests/v1',
    });
    expect(reportError(lookalike).lines).toEqual(['Error: GET …: 401']);
  });
});

describe('hints for network failures, from the reason code', () => {
  it.each([
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'CERT_HAS_EXPIRED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ])('%s → --ca-file or --insecure', (code) => {
    const report = reportError(networkError('https://127.0.0.1:5000/v2/', code, 'verify failed'));
    expect(report.exitCode).toBe(ExitCode.Failure);
    expect(report.lines[1]).toBe(CA_HINT);
  });

  it('a message that merely says "certificate" gets no TLS hint', () => {
    const error = networkError(
      'https://127.0.0.1:5000/v2/',
      'ECONNRESET',
      'self-signed certificate in certificate chain',
    );
    expect(reportError(error).lines).toEqual([`Error: ${error.message}`]);
    const plain = new FerryError(
      RegistryErrorCode.Network,
      'GET https://r.example/v2/: self-signed certificate; certificate required; wrong version number; ECONNREFUSED',
    );
    expect(reportError(plain).lines).toHaveLength(1);
  });

  it.each([
    [
      'the TLS 1.3 certificate_required alert',
      'https://r.example/v2/',
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
    ],
    ['a hang-up right after the https handshake', 'https://r.example/v2/', 'UND_ERR_SOCKET'],
  ])('%s → --cert-file/--key-file', (_what, url, code) => {
    expect(reportError(networkError(url, code, 'x')).lines[1]).toBe(CLIENT_CERT_HINT);
  });

  it('a hang-up over plain http is not about client certificates', () => {
    expect(
      reportError(networkError('http://r.example/v2/', 'UND_ERR_SOCKET', 'other side closed'))
        .lines,
    ).toHaveLength(1);
  });

  it('a download that broke off after the registry answered gets no connection hint', () => {
    // Blob downloads give up after repeated breaks with the socket's reason (UND_ERR_SOCKET over
    // https): the handshake had succeeded, so a client certificate or --plain-http is not it.
    const cause = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    const brokeOff = new NetworkError({
      method: 'GET',
      url: 'https://r.example/v2/a/blobs/sha256:abc',
      detail: 'the connection broke 6 times; gave up at byte 10 of 262144',
      cause,
      answered: true,
    });
    expect(brokeOff.reason).toBe('UND_ERR_SOCKET');
    expect(reportError(brokeOff).lines).toHaveLength(1);
  });

  it('ECONNREFUSED → is it running; ENOTFOUND → the name does not resolve', () => {
    expect(
      reportError(networkError('http://localhost:5999/v2/', 'ECONNREFUSED', 'x')).lines[1],
    ).toBe('Hint: is the registry running and listening on that host and port?');
    expect(
      reportError(networkError('https://no-such.example/v2/', 'ENOTFOUND', 'x')).lines[1],
    ).toBe(
      "Hint: the host name no-such.example does not resolve: check the registry's name (and your DNS or proxy settings)",
    );
  });

  it.each(['ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO'])('%s → --plain-http', (code) => {
    expect(reportError(networkError('https://r.example/v2/', code, 'x')).lines[1]).toBe(
      'Hint: the registry may speak plain HTTP: try --plain-http',
    );
  });
});

describe('exit codes and hints by code', () => {
  it('usage errors, conflicting options and malformed references exit 2', () => {
    expect(reportError(new UsageError('--a needs --b')).exitCode).toBe(ExitCode.Usage);
    expect(reportError(new FerryError(ErrorCode.InvalidOptions, 'x')).exitCode).toBe(
      ExitCode.Usage,
    );
    expect(reportError(new FerryError(ErrorCode.InvalidReference, 'bad\nmore'))).toEqual({
      exitCode: ExitCode.Usage,
      lines: [
        'Error: bad',
        'Hint: References look like registry/repository[:tag][@digest], e.g. localhost:5000/models/llama:v1',
      ],
    });
  });

  it('a digest mismatch (the one class) exits 1 with its hint; a layout’s not-found with none', () => {
    expect(reportError(new DigestMismatchError('sha256:a', 'sha256:b', 'a.txt')).lines).toEqual([
      'Error: digest mismatch for a.txt: expected sha256:a, got sha256:b',
      expect.stringMatching(/^Hint: The content changed/),
    ]);
    expect(reportError(new NotFoundError('v1 not found in oci-layout:x'))).toEqual({
      exitCode: ExitCode.Failure,
      lines: ['Error: v1 not found in oci-layout:x'],
    });
  });
});

describe('the error vocabulary of the CLI', () => {
  const codes = Object.values(CliErrorCode);

  it('has no code twice, and none of a library’s', () => {
    expect(new Set(codes).size).toBe(codes.length);
    const libraries = [
      ErrorCode,
      RegistryErrorCode,
      CredentialErrorCode,
      ArtifactErrorCode,
      HomebrewErrorCode,
      ModelErrorCode,
    ].flatMap((table) => Object.values(table) as string[]);
    expect(codes.filter((code) => libraries.includes(code))).toEqual([]);
    // The libraries' tables are disjoint too, except where one package reuses another's constant.
    expect(new Set(libraries).size).toBe(libraries.length);
  });

  it.each(codes)('%s: a FerryError with that code and name', (code) => {
    const error = code === CliErrorCode.Usage ? new UsageError('x') : new FerryError(code, 'x');
    expect(error.code).toBe(code);
    expect(error.name).toBe(code === CliErrorCode.Usage ? 'UsageError' : 'FerryError');
    expect(error).toBeInstanceOf(FerryError);
    expect(reportError(error).exitCode).toBe(
      code === CliErrorCode.Usage ? ExitCode.Usage : ExitCode.Failure,
    );
  });
});
