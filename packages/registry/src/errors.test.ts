import type * as ociModule from '@ferry/oci';
import { ErrorCode, FerryError, isNotFound, NotFoundError } from '@ferry/oci';
import { describe, expect, it, vi } from 'vitest';
import { CredentialErrorCode } from './credentials/docker-config.js';
import * as errors from './errors.js';
import { NetworkError, networkReason, RegistryError, RegistryErrorCode } from './errors.js';

type Errors = typeof errors;
type ErrorClass = abstract new (...args: never[]) => FerryError;
type Code = RegistryErrorCode | CredentialErrorCode;

const url = 'https://r.example/v2/a/b/manifests/v1';

/** One way to raise each code, and the class it is raised as, for a given copy of the module. */
function table(
  m: Errors,
  Ferry: typeof FerryError,
): Record<Code, { error: FerryError; class: ErrorClass }> {
  const plain = (code: string) => ({ error: new Ferry(code, `${code} happened`), class: Ferry });
  return {
    ERR_REGISTRY_RESPONSE: {
      error: new m.RegistryError({ status: 500, method: 'GET', url }),
      class: m.RegistryError,
    },
    ERR_UNAUTHORIZED: {
      error: new m.RegistryError({ status: 401, method: 'GET', url }),
      class: m.RegistryError,
    },
    ERR_TOKEN_EXCHANGE: {
      error: new m.RegistryError(
        { status: 500, method: 'GET', url: 'https://auth.example/token' },
        m.RegistryErrorCode.TokenExchange,
      ),
      class: m.RegistryError,
    },
    ERR_NETWORK: {
      error: new m.NetworkError({ method: 'GET', url, detail: 'ECONNREFUSED' }),
      class: m.NetworkError,
    },
    ERR_INSECURE_REDIRECT: plain(m.RegistryErrorCode.InsecureRedirect),
    ERR_TOO_MANY_REDIRECTS: plain(m.RegistryErrorCode.TooManyRedirects),
    ERR_REGISTRY_PROTOCOL: plain(m.RegistryErrorCode.Protocol),
    ERR_UPLOAD_DISCARDED: plain(m.RegistryErrorCode.UploadDiscarded),
    ERR_ABORTED: plain(m.RegistryErrorCode.Aborted),
    ERR_CREDENTIALS_CONFIG: plain(CredentialErrorCode.Config),
    ERR_CREDENTIAL_HELPER: plain(CredentialErrorCode.Helper),
    ERR_NOT_LOGGED_IN: plain(CredentialErrorCode.NotLoggedIn),
    ERR_INVALID_CREDENTIAL: plain(CredentialErrorCode.InvalidCredential),
  };
}

/** Second copies of this module and of @ferry/oci, as when two versions are installed. */
async function secondCopy(): Promise<{ m: Errors; oci: typeof ociModule }> {
  vi.resetModules();
  const m = (await import('./errors.js')) as Errors;
  const oci = (await import('@ferry/oci')) as typeof ociModule;
  expect(m.RegistryError).not.toBe(RegistryError);
  return { m, oci };
}

describe('the error vocabulary of @ferry/registry', () => {
  const codes = [
    ...Object.values(RegistryErrorCode),
    ...Object.values(CredentialErrorCode),
  ] as Code[];

  it('has no code twice, and none of @ferry/oci’s', () => {
    expect(new Set(codes).size).toBe(codes.length);
    const shared = new Set<string>(Object.values(ErrorCode));
    expect(codes.filter((code) => shared.has(code))).toEqual([]);
  });

  it.each(codes)('%s: raised with its code, its name and its class', (code) => {
    const { error, class: errorClass } = table(errors, FerryError)[code];
    expect(error.code).toBe(code);
    expect(error.name).toBe(errorClass.name);
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toBeInstanceOf(FerryError);
  });

  it.each(codes)('%s: instanceof holds across two installed copies', async (code) => {
    const copy = await secondCopy();
    const fromCopy = table(copy.m, copy.oci.FerryError)[code];
    const fromHere = table(errors, FerryError)[code];
    expect(fromCopy.error).toBeInstanceOf(fromHere.class);
    expect(fromCopy.error).toBeInstanceOf(FerryError);
    expect(fromHere.error).toBeInstanceOf(fromCopy.class);
    expect(fromHere.error).toBeInstanceOf(copy.oci.FerryError);
  });

  it('NetworkError and RegistryError do not pass for each other', () => {
    const { error: network } = table(errors, FerryError).ERR_NETWORK;
    const { error: response } = table(errors, FerryError).ERR_REGISTRY_RESPONSE;
    expect(network).not.toBeInstanceOf(RegistryError);
    expect(response).not.toBeInstanceOf(NetworkError);
  });
});

describe('a registry’s 404 is the one not-found', () => {
  it('passes isNotFound and instanceof NotFoundError, of either copy of @ferry/oci', async () => {
    const missing = new RegistryError({
      status: 404,
      method: 'HEAD',
      url: 'http://localhost:5000/v2/a/b/manifests/v9',
    });
    expect(isNotFound(missing)).toBe(true);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toBeInstanceOf(RegistryError);
    expect(missing.code).toBe('ERR_REGISTRY_RESPONSE');
    const copy = await secondCopy();
    expect(copy.oci.isNotFound(missing)).toBe(true);
    expect(missing).toBeInstanceOf(copy.oci.NotFoundError);
  });

  it.each([401, 403, 500])('a %i is not', (status) => {
    const error = new RegistryError({ status, method: 'GET', url });
    expect(isNotFound(error)).toBe(false);
    expect(error).not.toBeInstanceOf(NotFoundError);
  });
});

describe('only a registry saying "no such manifest, blob or tag" is a not-found', () => {
  // homebrew push reads a not-found from resolve() as "the tag is free" and then writes it: a
  // 404 from anything else (a token server, an upload session) must not read as one.
  it('a token server’s 404 is not, whatever its realm path looks like', () => {
    for (const realm of [
      'https://auth.example/token?scope=repository:a/b:pull',
      'https://auth.example/v2/a/b/manifests/v1',
    ]) {
      const refused = new RegistryError(
        { status: 404, method: 'GET', url: realm },
        RegistryErrorCode.TokenExchange,
      );
      expect(isNotFound(refused)).toBe(false);
      expect(refused).not.toBeInstanceOf(NotFoundError);
    }
  });

  it('an upload session’s 404 is not; a blob’s and a tag list’s are', () => {
    const upload = new RegistryError({
      status: 404,
      method: 'PUT',
      url: 'https://r.example/v2/a/blobs/uploads/123?digest=sha256:abc',
    });
    expect(isNotFound(upload)).toBe(false);
    for (const found of [
      'https://r.example/v2/a/blobs/sha256:abc',
      'https://r.example/v2/a/tags/list',
    ]) {
      expect(isNotFound(new RegistryError({ status: 404, method: 'GET', url: found }))).toBe(true);
    }
  });
});

describe('an error never prints the signature of a storage URL a blob was redirected to', () => {
  // Docker Hub sends blobs to Cloudflare with `?verify=<expiry>-<signature>`; others use
  // S3, CloudFront, Azure SAS, GCS or an api key. A 403 or 404 there names that URL.
  it.each([
    [
      'verify',
      'https://production.cloudflare.docker.com/registry-v2/data?verify=1700000000-QUJDc2lnbmVk',
    ],
    ['X-Amz-Signature', 'https://bucket.s3.amazonaws.com/blob?X-Amz-Signature=QUJDc2lnbmVk'],
    ['sig', 'https://acct.blob.core.windows.net/c/blob?sv=2020&sig=QUJDc2lnbmVk'],
    ['api_key', 'https://cdn.example/blob?api_key=QUJDc2lnbmVk'],
    ['apikey', 'https://cdn.example/blob?apikey=QUJDc2lnbmVk'],
    ['client_secret', 'https://auth.example/token?client_secret=QUJDc2lnbmVk'],
  ])('%s', (_name, storageUrl) => {
    const error = new RegistryError({ status: 403, method: 'GET', url: storageUrl });
    expect(error.message).not.toContain('QUJDc2lnbmVk');
    expect(error.url).not.toContain('QUJDc2lnbmVk');
    expect(error.url).toContain('REDACTED');
  });
});

describe('a hostile URL (a redirect’s Location) cannot break RegistryError', () => {
  it('a malformed percent escape leaves the field as sent instead of throwing', () => {
    const error = new RegistryError({
      status: 404,
      method: 'GET',
      url: 'https://r.example/v2/a%E0%A4%A/manifests/v%ZZ1',
    });
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.repository).toBe('a%E0%A4%A');
    expect(error.reference).toBe('v%ZZ1');
    expect(error.kind).toBe('manifest');
  });
});

describe('RegistryError names what the request was about', () => {
  it.each([
    [
      'http://localhost:5000/v2/a/b/manifests/v9',
      { host: 'localhost:5000', repository: 'a/b', kind: 'manifest', reference: 'v9' },
    ],
    [
      'https://r.example/v2/x/blobs/sha256:abc',
      { host: 'r.example', repository: 'x', kind: 'blob', reference: 'sha256:abc' },
    ],
    [
      'https://r.example/v2/x/y/blobs/uploads/123?_state=s',
      { host: 'r.example', repository: 'x/y', kind: 'upload', reference: undefined },
    ],
    [
      'https://r.example/v2/x/tags/list?n=10',
      { host: 'r.example', repository: 'x', kind: 'tags', reference: undefined },
    ],
    [
      'https://r.example/v2/x/referrers/sha256:abc',
      { host: 'r.example', repository: 'x', kind: 'referrers', reference: 'sha256:abc' },
    ],
    [
      'https://auth.example/token?scope=x',
      { host: 'auth.example', repository: undefined, kind: undefined, reference: undefined },
    ],
  ])('%s', (requestUrl, expected) => {
    const error = new RegistryError({ status: 404, method: 'GET', url: requestUrl });
    expect({
      host: error.host,
      repository: error.repository,
      kind: error.kind,
      reference: error.reference,
    }).toEqual(expected);
  });
});

describe('NetworkError carries the reason from the cause chain', () => {
  it('a TLS verification failure wrapped by undici', () => {
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    const error = new NetworkError({
      method: 'GET',
      url: 'https://user:pw@r.example/v2/',
      detail: 'fetch failed',
      cause: new TypeError('fetch failed', { cause: tls }),
    });
    expect(error.reason).toBe('SELF_SIGNED_CERT_IN_CHAIN');
    expect(error.secure).toBe(true);
    expect(error.host).toBe('r.example');
    expect(error.url).toBe('https://r.example/v2/');
    expect(error.message).toBe('GET https://r.example/v2/: fetch failed');
  });

  it('a refused connection; no reason when nothing in the chain has a code', () => {
    expect(networkReason(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(
      'ECONNREFUSED',
    );
    expect(networkReason(new Error('certificate has expired'))).toBeUndefined();
    expect(networkReason(undefined)).toBeUndefined();
    const plain = new NetworkError({ method: 'GET', url: 'http://r.example/v2/', detail: 'x' });
    expect(plain.secure).toBe(false);
    expect(plain.reason).toBeUndefined();
  });
});
