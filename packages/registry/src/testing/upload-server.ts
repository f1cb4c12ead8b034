/** A fake upload endpoint for unit tests of the upload protocol (see blobs.test.ts). */
import { computeDigest } from '@ferry/oci';
import { json, type LoopbackServer } from './loopback.js';

/** An in-memory upload endpoint following the distribution spec, with a fault switch. */
export function uploadServer(
  server: LoopbackServer,
  options: { failPatch?: number; chunkMin?: number; patchStatus?: number } = {},
) {
  const sessions = new Map<string, Buffer>();
  const blobs = new Map<string, Buffer>();
  let patches = 0;
  let next = 0;
  server.handle = (req, res, body) => {
    const url = new URL(req.url ?? '/', server.origin);
    const session = /\/blobs\/uploads\/([^/]+)$/.exec(url.pathname)?.[1];
    const location = (id: string) => `/v2/a/b/blobs/uploads/${id}?_state=opaque%3D%3D`;
    if (req.method === 'HEAD' && url.pathname.includes('/blobs/sha256:')) {
      const found = blobs.get(url.pathname.split('/').pop() ?? '');
      res.writeHead(found ? 200 : 404, found ? { 'content-length': found.byteLength } : {});
      return void res.end();
    }
    if (req.method === 'POST') {
      const mount = url.searchParams.get('mount');
      if (mount && blobs.has(mount)) {
        res.writeHead(201, { location: `/v2/a/b/blobs/${mount}` });
        return void res.end();
      }
      const id = `s${next++}`;
      sessions.set(id, Buffer.alloc(0));
      res.writeHead(202, {
        location: location(id),
        ...(options.chunkMin ? { 'oci-chunk-min-length': String(options.chunkMin) } : {}),
      });
      return void res.end();
    }
    if (!session || !sessions.has(session))
      return json(res, 404, { errors: [{ code: 'BLOB_UPLOAD_UNKNOWN' }] });
    const stored = sessions.get(session) ?? Buffer.alloc(0);
    if (url.searchParams.get('_state') !== 'opaque==')
      return json(res, 400, {
        errors: [{ code: 'BLOB_UPLOAD_INVALID', message: 'state rebuilt' }],
      });
    if (req.method === 'PATCH') {
      patches++;
      if (options.patchStatus) return json(res, options.patchStatus, {});
      // Without Content-Range: a streamed upload, appended whole.
      const range = req.headers['content-range'];
      const start = range === undefined ? stored.byteLength : Number(/^(\d+)-/.exec(range)?.[1]);
      if (start !== stored.byteLength)
        return json(res, 416, { errors: [{ code: 'BLOB_UPLOAD_INVALID' }] });
      if (patches === options.failPatch) {
        // Keep half of the chunk, then drop the connection without answering.
        sessions.set(session, Buffer.concat([stored, body.subarray(0, body.byteLength / 2)]));
        return void res.socket?.destroy();
      }
      const total = Buffer.concat([stored, body]);
      sessions.set(session, total);
      res.writeHead(202, { location: location(session), range: `0-${total.byteLength - 1}` });
      return void res.end();
    }
    if (req.method === 'GET') {
      res.writeHead(204, { location: location(session), range: `0-${stored.byteLength - 1}` });
      return void res.end();
    }
    if (req.method === 'PUT') {
      const total = Buffer.concat([stored, body]);
      const expected = url.searchParams.get('digest') ?? '';
      if (computeDigest(total) !== expected)
        return json(res, 400, { errors: [{ code: 'DIGEST_INVALID' }] });
      blobs.set(expected, total);
      sessions.delete(session);
      res.writeHead(201, {
        location: `/v2/a/b/blobs/${expected}`,
        'docker-content-digest': expected,
      });
      return void res.end();
    }
    if (req.method === 'DELETE') {
      sessions.delete(session);
      res.writeHead(204);
      return void res.end();
    }
    json(res, 405, {});
  };
  return { blobs, sessions, patches: () => patches };
}
