/**
 * A small OCI distribution registry on a loopback port, in memory, for unit tests of
 * RegistryTarget and of pushes through it: blobs (HEAD, GET, DELETE, uploads by POST/PATCH/PUT,
 * cross-repository mounts), manifests by tag or digest, the tag list, and the referrers API —
 * which `referrersApi: false` turns off (404), as on registry:2 before 3.0. Every request is
 * recorded as `METHOD /path?query`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Repository {
  blobs: Map<string, Buffer>;
  manifests: Map<string, { bytes: Buffer; mediaType: string }>;
  tags: Map<string, string>;
}

export interface FakeRegistryOptions {
  /** Answer `GET /v2/<name>/referrers/<digest>` (default true); false: 404, as registry:2. */
  referrersApi?: boolean;
}

export interface FakeRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  /** `METHOD /path?query` of every request, in order. */
  requests: string[];
  /** Body bytes received by upload sessions (PATCH and PUT), in all. */
  readonly uploadedBytes: number;
  /** Upload sessions opened and neither closed nor deleted. */
  readonly openUploads: number;
  repository(name: string): Repository;
  close(): Promise<void>;
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function error(response: ServerResponse, status: number, code: string): void {
  const body = JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] });
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeRegistry(options: FakeRegistryOptions = {}): Promise<FakeRegistry> {
  const repositories = new Map<string, Repository>();
  const uploads = new Map<string, { name: string; bytes: Buffer }>();
  const requests: string[] = [];
  let sessions = 0;
  let uploadedBytes = 0;
  const repository = (name: string): Repository => {
    let found = repositories.get(name);
    if (!found) {
      found = { blobs: new Map(), manifests: new Map(), tags: new Map() };
      repositories.set(name, found);
    }
    return found;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://registry.test');
    const method = request.method ?? 'GET';
    requests.push(`${method} ${url.pathname}${url.search}`);
    const body = await readBody(request);
    if (url.pathname === '/v2/') return void response.writeHead(200).end('{}');
    const route =
      /^\/v2\/(.+?)\/(blobs\/uploads\/([^/]*)|blobs\/([^/]+)|manifests\/([^/]+)|tags\/list|referrers\/([^/]+))$/.exec(
        url.pathname,
      );
    if (!route) return error(response, 404, 'NAME_UNKNOWN');
    const [, name = '', , session, blobDigest, manifestRef, subject] = route;
    const repo = repository(name);

    if (session !== undefined) {
      if (method === 'POST') {
        const mount = url.searchParams.get('mount');
        const from = url.searchParams.get('from');
        const mounted = mount && from ? repositories.get(from)?.blobs.get(mount) : undefined;
        if (mount && mounted) {
          repo.blobs.set(mount, mounted);
          response.writeHead(201, { location: `/v2/${name}/blobs/${mount}` });
          return void response.end();
        }
        const id = `u${sessions++}`;
        uploads.set(id, { name, bytes: Buffer.alloc(0) });
        response.writeHead(202, { location: `/v2/${name}/blobs/uploads/${id}`, range: '0-0' });
        return void response.end();
      }
      const upload = uploads.get(session);
      if (!upload) return error(response, 404, 'BLOB_UPLOAD_UNKNOWN');
      upload.bytes = Buffer.concat([upload.bytes, body]);
      uploadedBytes += body.byteLength;
      if (method === 'PATCH') {
        response.writeHead(202, {
          location: `/v2/${name}/blobs/uploads/${session}`,
          range: `0-${upload.bytes.byteLength - 1}`,
        });
        return void response.end();
      }
      if (method === 'PUT') {
        const digest = url.searchParams.get('digest') ?? '';
        uploads.delete(session);
        if (sha256(upload.bytes) !== digest) return error(response, 400, 'DIGEST_INVALID');
        repo.blobs.set(digest, upload.bytes);
        response.writeHead(201, {
          location: `/v2/${name}/blobs/${digest}`,
          'docker-content-digest': digest,
        });
        return void response.end();
      }
      if (method === 'DELETE') {
        uploads.delete(session);
        return void response.writeHead(204).end();
      }
    }

    if (blobDigest !== undefined) {
      const blob = repo.blobs.get(blobDigest);
      if (method === 'DELETE') {
        if (!repo.blobs.delete(blobDigest)) return error(response, 404, 'BLOB_UNKNOWN');
        return void response.writeHead(202).end();
      }
      if (!blob) return error(response, 404, 'BLOB_UNKNOWN');
      response.writeHead(200, {
        'content-length': blob.byteLength,
        'docker-content-digest': blobDigest,
        'content-type': 'application/octet-stream',
      });
      return void response.end(method === 'HEAD' ? undefined : blob);
    }

    if (manifestRef !== undefined) {
      if (method === 'PUT') {
        const digest = sha256(body);
        const mediaType = request.headers['content-type'] ?? '';
        repo.manifests.set(digest, { bytes: body, mediaType });
        if (!manifestRef.includes(':')) repo.tags.set(manifestRef, digest);
        const parsed = JSON.parse(body.toString('utf8')) as { subject?: { digest: string } };
        const headers: Record<string, string> = {
          location: `/v2/${name}/manifests/${digest}`,
          'docker-content-digest': digest,
        };
        if (parsed.subject && options.referrersApi !== false)
          headers['oci-subject'] = parsed.subject.digest;
        response.writeHead(201, headers);
        return void response.end();
      }
      const digest = manifestRef.includes(':') ? manifestRef : repo.tags.get(manifestRef);
      const manifest = digest ? repo.manifests.get(digest) : undefined;
      if (method === 'DELETE') {
        if (!digest || !repo.manifests.delete(digest))
          return error(response, 404, 'MANIFEST_UNKNOWN');
        for (const [tag, tagged] of repo.tags) if (tagged === digest) repo.tags.delete(tag);
        return void response.writeHead(202).end();
      }
      if (!manifest || !digest) return error(response, 404, 'MANIFEST_UNKNOWN');
      response.writeHead(200, {
        'content-type': manifest.mediaType,
        'content-length': manifest.bytes.byteLength,
        'docker-content-digest': digest,
      });
      return void response.end(method === 'HEAD' ? undefined : manifest.bytes);
    }

    if (subject !== undefined) {
      if (options.referrersApi === false) return error(response, 404, 'NAME_UNKNOWN');
      const artifactType = url.searchParams.get('artifactType');
      const manifests = [];
      for (const [digest, { bytes, mediaType }] of repo.manifests) {
        const parsed = JSON.parse(bytes.toString('utf8')) as {
          subject?: { digest: string };
          artifactType?: string;
          config?: { mediaType: string };
          annotations?: Record<string, string>;
        };
        if (parsed.subject?.digest !== subject) continue;
        const type = parsed.artifactType ?? parsed.config?.mediaType;
        if (artifactType && type !== artifactType) continue;
        manifests.push({
          mediaType,
          digest,
          size: bytes.byteLength,
          ...(type ? { artifactType: type } : {}),
          ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
        });
      }
      response.writeHead(200, {
        'content-type': 'application/vnd.oci.image.index.v1+json',
        ...(artifactType ? { 'oci-filters-applied': 'artifactType' } : {}),
      });
      return void response.end(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests,
        }),
      );
    }

    // tags/list
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ name, tags: [...repo.tags.keys()].sort() }));
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((cause: unknown) => {
      response.writeHead(500).end(String(cause));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    get uploadedBytes() {
      return uploadedBytes;
    },
    get openUploads() {
      return uploads.size;
    },
    repository,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
