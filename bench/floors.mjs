#!/usr/bin/env node
// The "node floor" of the benchmark: the least a Node.js client can do for the same work against
// the same registry, with the same HTTP library as ferry (undici) and nothing else. No reference
// parsing, no retries, no progress, no atomic temp files, no checks beyond what the protocol needs.
// Where ferry comes close to these, what is left is the machine and the registry, not ferry.
//
//   node bench/floors.mjs push <registry url> <repo> <file> <digest>
//                                                                 POST, one streamed PUT ?digest=
//   node bench/floors.mjs pull <blob url> <out file>              GET, sha256, 8 MiB writes
//   node bench/floors.mjs small-push <registry url> <repo> <dir> <concurrency>
//                                                                 POST + PUT ?digest= per file
//   node bench/floors.mjs small-pull <registry url> <repo> <tag> <out dir> <concurrency>
//                                                                 GET manifest, GET + write each layer
//   node bench/floors.mjs pull-durable <blob url> <out file>      GET, sha256, positional writev of
//                                                                 ~4 MiB batches, fsync, rename
//   node bench/floors.mjs pull-reused <blob url> <out file>       as pull-durable, on a plain socket
//                                                                 read into one fixed buffer: the
//                                                                 memory floor (plain HTTP only)
//   node bench/floors.mjs small-pull-durable <registry url> <repo> <tag> <out dir> <concurrency>
//                                                                 as small-pull, each file verified,
//                                                                 written to a temp name, fsync'ed and
//                                                                 renamed; the directory fsync'ed once
//
// The -durable modes are what ferry promises (a file appears at its final path only verified and
// fsync'ed), so they are the floor ferry's pulls are measured against since issue 17.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, request } from 'undici';

const [mode, ...args] = process.argv.slice(2);

async function pool(count, items, work) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(count, items.length) }, worker));
}

async function pull([url, out]) {
  const agent = new Agent();
  const response = await request(url, { dispatcher: agent, highWaterMark: 1024 * 1024 });
  if (response.statusCode !== 200) throw new Error(`GET ${url}: ${response.statusCode}`);
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(
    response.body,
    hashing,
    createWriteStream(out, { highWaterMark: 8 * 1024 * 1024 }),
  );
  process.stdout.write(`sha256:${hash.digest('hex')}\n`);
  await agent.close();
}

/** POST for a session, then one PUT ?digest= with the whole body. */
async function upload(agent, base, repo, digest, body, size) {
  const started = await request(`${base}/v2/${repo}/blobs/uploads/`, {
    method: 'POST',
    dispatcher: agent,
  });
  await started.body.dump();
  if (started.statusCode !== 202) throw new Error(`POST: ${started.statusCode}`);
  const location = new URL(started.headers.location, base);
  location.searchParams.set('digest', digest);
  const put = await request(location, {
    method: 'PUT',
    body,
    dispatcher: agent,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
  });
  await put.body.dump();
  if (put.statusCode !== 201) throw new Error(`PUT: ${put.statusCode}`);
}

async function push([base, repo, file, digest]) {
  const agent = new Agent();
  const { size } = await stat(file);
  const body = createReadStream(file, { highWaterMark: 1024 * 1024 });
  await upload(agent, base, repo, digest, body, size);
  await agent.close();
}

async function smallPush([base, repo, dir, concurrency]) {
  const agent = new Agent({ connections: Number(concurrency) });
  const names = (await readdir(dir)).sort();
  await pool(Number(concurrency), names, async (name) => {
    const body = await readFile(join(dir, name));
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    await upload(agent, base, repo, digest, body, body.byteLength);
  });
  await agent.close();
}

async function smallPull([base, repo, tag, out, concurrency]) {
  const agent = new Agent({ connections: Number(concurrency) });
  const response = await request(`${base}/v2/${repo}/manifests/${tag}`, {
    dispatcher: agent,
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  const manifest = await response.body.json();
  await mkdir(out, { recursive: true });
  await pool(Number(concurrency), manifest.layers, async (layer) => {
    const blob = await request(`${base}/v2/${repo}/blobs/${layer.digest}`, { dispatcher: agent });
    if (blob.statusCode !== 200) throw new Error(`GET ${layer.digest}: ${blob.statusCode}`);
    const bytes = Buffer.from(await blob.body.arrayBuffer());
    await writeFile(join(out, layer.digest.slice('sha256:'.length)), bytes);
  });
  await agent.close();
}

/**
 * The least a Node.js pull can do and still keep ferry's promise: verify, write, fsync, rename.
 * The body is read with a 1 MiB highWaterMark and hashed on the main thread; what arrived while a
 * write was in flight goes down in one positional writev (~4 MiB batches, one write pending).
 */
async function pullDurable([url, out]) {
  // As ferry does (bin/ferry.js): llhttp compiled once, by Liftoff only.
  (await import('node:v8')).setFlagsFromString('--liftoff-only');
  const agent = new Agent();
  const response = await request(url, { dispatcher: agent, highWaterMark: 1024 * 1024 });
  if (response.statusCode !== 200) throw new Error(`GET ${url}: ${response.statusCode}`);
  const hash = createHash('sha256');
  const temp = `${out}.partial`;
  const handle = await open(temp, 'wx');
  let position = 0;
  let pending = [];
  let pendingBytes = 0;
  let writing = null;
  let unsynced = 0;
  let syncing = null;
  const flush = () => {
    const batch = pending;
    const at = position;
    position += pendingBytes;
    pending = [];
    pendingBytes = 0;
    writing = handle.writev(batch, at).then(() => {
      writing = null;
      // As ferry does since run K: a background fdatasync every 32 MiB (one at a time), so the
      // final fsync flushes only the tail (3.42 -> 2.71 s, 6 interleaved runs, quiet).
      unsynced += batch.reduce((sum, buffer) => sum + buffer.byteLength, 0);
      if (!syncing && unsynced >= 32 * 1024 * 1024) {
        unsynced = 0;
        syncing = handle.datasync().then(() => (syncing = null));
      }
    });
    return writing;
  };
  for await (const chunk of response.body) {
    hash.update(chunk);
    pending.push(chunk);
    pendingBytes += chunk.byteLength;
    if (pendingBytes >= 4 * 1024 * 1024) {
      if (writing) await writing;
      void flush();
    }
  }
  if (writing) await writing;
  if (pendingBytes > 0) await flush();
  if (syncing) await syncing;
  await handle.sync();
  await handle.close();
  await rename(temp, out);
  await syncDirectory(join(out, '..'));
  process.stdout.write(`sha256:${hash.digest('hex')}\n`);
  await agent.close();
}

async function syncDirectory(dir) {
  const handle = await open(dir, 'r');
  await handle.sync();
  await handle.close();
}

async function smallPullDurable([base, repo, tag, out, concurrency]) {
  (await import('node:v8')).setFlagsFromString('--liftoff-only');
  const agent = new Agent({ connections: Number(concurrency) });
  const response = await request(`${base}/v2/${repo}/manifests/${tag}`, {
    dispatcher: agent,
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  const manifest = await response.body.json();
  await mkdir(out, { recursive: true });
  await pool(Number(concurrency), manifest.layers, async (layer) => {
    const blob = await request(`${base}/v2/${repo}/blobs/${layer.digest}`, { dispatcher: agent });
    if (blob.statusCode !== 200) throw new Error(`GET ${layer.digest}: ${blob.statusCode}`);
    const bytes = Buffer.from(await blob.body.arrayBuffer());
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== layer.digest) throw new Error(`${layer.digest}: got ${actual}`);
    const name = join(out, layer.digest.slice('sha256:'.length));
    const handle = await open(`${name}.partial`, 'wx');
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    await rename(`${name}.partial`, name);
  });
  await syncDirectory(out);
  await agent.close();
}

/**
 * The memory floor of a pull: what a Node process needs when nothing is allocated per read.
 * A plain TCP socket reads into one fixed 256 KiB buffer (`onread`); the status line and headers
 * are parsed by hand (HTTP/1.1, Content-Length bodies only: registry:2's blob GET); each body
 * slice is hashed and copied into one of two reused 4 MiB batches, written at its offset while
 * the other fills, with the same background fdatasync every 32 MiB, fsync, rename and directory
 * fsync as pull-durable. No TLS, no redirects, no chunked bodies: a bound, not a client.
 */
async function pullReused([url, out]) {
  const { connect } = await import('node:net');
  const target = new URL(url);
  if (target.protocol !== 'http:') throw new Error('pull-reused speaks plain HTTP only');
  const BATCH = 4 * 1024 * 1024;
  const batches = [Buffer.allocUnsafe(BATCH), Buffer.allocUnsafe(BATCH)];
  let current = 0;
  let filled = 0;
  const hash = createHash('sha256');
  const temp = `${out}.partial`;
  const handle = await open(temp, 'wx');
  let position = 0;
  let writing = null;
  let unsynced = 0;
  let syncing = null;
  let failed = null;
  const flush = () => {
    const batch = batches[current].subarray(0, filled);
    const at = position;
    position += filled;
    current ^= 1;
    filled = 0;
    writing = handle.write(batch, 0, batch.length, at).then(() => {
      writing = null;
      unsynced += batch.length;
      if (!syncing && unsynced >= 32 * 1024 * 1024) {
        unsynced = 0;
        syncing = handle.datasync().then(() => (syncing = null));
      }
    });
    writing.catch((error) => (failed ??= error));
    return writing;
  };
  let header = Buffer.alloc(0);
  let remaining = -1;
  let socket;
  const done = new Promise((resolve, reject) => {
    // Copies body bytes into the batch being filled, writing it out whenever it is full. When
    // it is full while the other batch is still being written, reading stops until that write
    // is done, and the rest of the chunk (copied once: the read buffer is reused) follows then.
    const copyIn = (chunk) => {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(chunk.length - offset, BATCH - filled);
        chunk.copy(batches[current], filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled < BATCH) continue;
        if (writing && offset < chunk.length) {
          socket.pause();
          const rest = Buffer.from(chunk.subarray(offset));
          writing.then(() => {
            flush();
            copyIn(rest);
            socket.resume();
          }, reject);
          return;
        }
        if (writing) {
          socket.pause();
          writing.then(() => {
            flush();
            socket.resume();
          }, reject);
          return;
        }
        flush();
      }
    };
    socket = connect({
      host: target.hostname,
      port: Number(target.port || 80),
      onread: {
        buffer: Buffer.allocUnsafe(256 * 1024),
        callback(nread, buffer) {
          let chunk = buffer.subarray(0, nread);
          if (remaining < 0) {
            header = Buffer.concat([header, chunk]);
            const end = header.indexOf('\r\n\r\n');
            if (end < 0) return true;
            const head = header.subarray(0, end).toString('latin1');
            const status = Number(head.split(' ', 2)[1]);
            if (status !== 200) return (reject(new Error(`GET ${url}: ${status}`)), false);
            const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
            if (!length) return (reject(new Error('no Content-Length')), false);
            remaining = Number(length[1]);
            chunk = header.subarray(end + 4);
            header = null;
          }
          remaining -= chunk.length;
          hash.update(chunk);
          copyIn(chunk);
          if (remaining <= 0) {
            socket.end();
            resolve();
          }
          return true;
        },
      },
    });
    socket.on('error', reject);
    socket.write(
      `GET ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\nconnection: close\r\n\r\n`,
    );
  });
  await done;
  if (writing) await writing;
  if (filled > 0) await flush();
  if (syncing) await syncing;
  if (failed) throw failed;
  await handle.sync();
  await handle.close();
  await rename(temp, out);
  await syncDirectory(join(out, '..'));
  process.stdout.write(`sha256:${hash.digest('hex')}\n`);
}

const modes = {
  push,
  pull,
  'small-push': smallPush,
  'small-pull': smallPull,
  'pull-durable': pullDurable,
  'pull-reused': pullReused,
  'small-pull-durable': smallPullDurable,
};
if (!modes[mode]) {
  process.stderr.write(`usage: floors.mjs ${Object.keys(modes).join('|')} …\n`);
  process.exit(2);
}
await modes[mode](args);
