#!/usr/bin/env node
// ferry vs skopeo (and a raw curl baseline) against one throwaway registry:2 on loopback.
//
//   npm run bench                     # full run: 1 GiB file, 1,000 × 4 KiB files, 10 × 100 MiB model
//   BENCH_QUICK=1 npm run bench       # smoke run: 64 MiB, 100 files, 10 × 8 MiB
//
// Environment:
//   BENCH_RUNS=3          samples per tool and case (medians are reported)
//   BENCH_QUICK=1         small sizes, for checking that everything works
//   BENCH_BIG=1           also push and pull a 4 GiB file with ferry, to show memory stays flat
//   BENCH_TMPDIR=dir      where data, layouts and pulls go (default: the OS temp dir; the registry's
//                         storage is always in the OS temp dir — keep both on the same disk)
//   BENCH_MAX_BUSY=0.6    before each sample, wait while other processes use more CPU cores than this
//   BENCH_QUIET_WAIT=15   … but for at most this many seconds per sample (0 disables the wait)
//   BENCH_JSON=file       also write every sample as JSON
//   BENCH_ONLY=a,b        run only these cases (ids: push-new, push-present, pull, small, model,
//                         startup, big, throttled, half — the 512 MiB push and pull of issue 17)
//   BENCH_THROTTLE_MB_S=32  the per-connection cap of the throttled case (MB/s)
//
// Plain ESM JavaScript, no build step: it runs the built CLI (apps/cli/bin/ferry.js) and the e2e
// harness's registry starter (e2e/dist/harness). `npm run bench` builds first.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildOrasGoPeer } from './oras-go.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FERRY = join(ROOT, 'apps/cli/bin/ferry.js');
/** As many small blobs at once as ferry moves by default (SMALL_BLOB_CONCURRENCY). */
const SMALL_FLOOR_CONCURRENCY = '16';
/** As many small blobs at once as ferry pulls by default (SMALL_PULL_CONCURRENCY). */
const SMALL_PULL_FLOOR_CONCURRENCY = '32';
const HARNESS = join(ROOT, 'e2e/dist/harness/index.js');
const NODE = process.execPath;
const TIME = '/usr/bin/time';
const SKOPEO = process.env.SKOPEO ?? 'skopeo';
/** The built oras-go peer (bench/oras-go.mjs), when Go and Debian's oras-go are there. */
let ORAS_GO;
const SKOPEO_CACHES = [
  '/var/lib/containers/cache/blob-info-cache-v1.boltdb',
  join(process.env.HOME ?? '/root', '.local/share/containers/cache/blob-info-cache-v1.boltdb'),
];

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const env = process.env;
const QUICK = env.BENCH_QUICK === '1';
const BIG = env.BENCH_BIG === '1';
const RUNS = Math.max(1, Number(env.BENCH_RUNS ?? 3) || 3);
const MAX_BUSY = Number(env.BENCH_MAX_BUSY ?? 0.6);
const QUIET_WAIT_S = Number(env.BENCH_QUIET_WAIT ?? 15);
const ONLY = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : null;
const enabled = (id) => !ONLY || ONLY.has(id);

const SIZES = QUICK
  ? {
      big: 64 * MiB,
      smallCount: 100,
      smallSize: 4096,
      shards: 10,
      shardSize: 8 * MiB,
      huge: 256 * MiB,
      half: 32 * MiB,
    }
  : {
      big: GiB,
      smallCount: 1000,
      smallSize: 4096,
      shards: 10,
      shardSize: 100 * MiB,
      huge: 4 * GiB,
      half: 512 * MiB,
    };

const human = (bytes) =>
  bytes >= GiB
    ? `${+(bytes / GiB).toFixed(2)} GiB`
    : bytes >= MiB
      ? `${+(bytes / MiB).toFixed(1)} MiB`
      : `${bytes / 1024} KiB`;
const log = (s) => process.stderr.write(`${s}\n`);
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Issue 17's throttled pull (see throttledPull). */
const THROTTLE_MB_S = Number(env.BENCH_THROTTLE_MB_S ?? 32) || 32;
const THROTTLED_SIZE = QUICK ? 96 * MiB : 256 * MiB;
const throttledLabel = `pull ${human(THROTTLED_SIZE)} via ${THROTTLE_MB_S} MB/s per connection`;

// ---------------------------------------------------------------------------------------------
// Pre-flight

function need(cmd, hint) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0) {
    log(`bench: ${cmd} not found. ${hint}`);
    process.exit(2);
  }
  return r.stdout.trim();
}
if (!existsSync(join(ROOT, 'apps/cli/dist/main.js')) || !existsSync(HARNESS)) {
  log('bench: ferry is not built; run `npm run build` (or `npm run bench`, which builds first)');
  process.exit(2);
}
need(SKOPEO, 'Install skopeo (Debian: apt-get install -y skopeo) or set SKOPEO=/path/to/skopeo.');
need('curl', 'Install curl (Debian: apt-get install -y curl).');
const HAVE_TIME = existsSync(TIME);
if (!HAVE_TIME) {
  log(
    `bench: ${TIME} (GNU time) is missing, so peak RSS is not measured. ` +
      'Install it with `apt-get install -y time` (as root) and run again for the RSS column.',
  );
}

/** The commit, and the newest mtime of the built JS this bench runs: another rebuild mid-run would
 * mix two versions of ferry in one table, so the report says when that happened. */
function codeStamp() {
  const git = spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty', '--exclude', '*'], {
    encoding: 'utf8',
  });
  const newest = spawnSync(
    'sh',
    ['-c', "find apps/cli/dist packages/*/dist -name '*.js' -printf '%T@\\n' | sort -n | tail -1"],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return { commit: git.stdout.trim() || 'unknown', built: newest.stdout.trim() };
}
const CODE = codeStamp();

// ---------------------------------------------------------------------------------------------
// Measuring

/** CPU cores busy with other work, from /proc/stat over `ms` while we sit idle. */
function cpuTimes() {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { idle: f[3] + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
}
async function busyCores(ms = 500) {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  const total = b.total - a.total;
  return total > 0 ? (1 - (b.idle - a.idle) / total) * cpus().length : 0;
}

/** Flushes the previous sample's dirty pages and waits (bounded) for the machine to be quiet. */
async function settle() {
  spawnSync('sync');
  let busy = await busyCores();
  const deadline = Date.now() + QUIET_WAIT_S * 1000;
  while (busy > MAX_BUSY && Date.now() < deadline) busy = await busyCores(1000);
  return busy;
}

let current; // the child being measured, so a signal can stop it
/**
 * Runs a command; wall time from our clock, peak RSS from GNU time (written to a file so it never
 * mixes with the command's own stderr).
 */
async function measure(cmd, args, { cwd, rss = true, env: extraEnv } = {}) {
  const timeFile = join(WORK, `time-${process.pid}.txt`);
  const [file, argv] =
    rss && HAVE_TIME ? [TIME, ['-f', '%e %M %U %S', '-o', timeFile, cmd, ...args]] : [cmd, args];
  const started = performance.now();
  const { code, stdout, stderr } = await new Promise((resolveRun, reject) => {
    // Its own process group, so a signal to the bench can stop GNU time *and* the command under it.
    const child = spawn(file, argv, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(extraEnv ? { env: { ...process.env, ...extraEnv } } : {}),
    });
    current = child;
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => void (out.length < 1e6 && (out += d)));
    child.stderr.on('data', (d) => void (err.length < 1e6 && (err += d)));
    child.on('error', reject);
    child.on('close', (c) => resolveRun({ code: c, stdout: out, stderr: err }));
  });
  const seconds = (performance.now() - started) / 1000;
  current = undefined;
  if (code !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ').slice(0, 300)} exited ${code}\n${stderr.slice(-2000)}${stdout.slice(-500)}`,
    );
  }
  let rssMiB = NaN;
  let cpu = NaN;
  if (rss && HAVE_TIME) {
    const [, kib, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ');
    rssMiB = Number(kib) / 1024;
    cpu = Number(user) + Number(sys);
    rmSync(timeFile, { force: true });
  }
  return { seconds, rssMiB, cpu, stdout, stderr };
}

// Never the user's own ~/.cache/ferry: the bench's cache lives and dies with its work directory.
const ferry = (args, opts = {}) =>
  measure(NODE, [FERRY, ...args, '--no-tty'], {
    ...opts,
    env: opts.env ?? { FERRY_CACHE: join(WORK, 'ferry-cache', 'default') },
  });
/**
 * ferry's cache directory (downloads and the digest cache) for a push: a fresh one per sample, so
 * that a "new" push hashes the file as a first push would; "present" reuses the one of the push
 * before it, as a user pushing the same file again would.
 */
const pushCache = (name) => ({ FERRY_CACHE: join(WORK, 'ferry-cache', name) });
/** bench/floors.mjs: the same work with bare undici, the least a Node.js client can do. */
const FLOORS = join(ROOT, 'bench/floors.mjs');
const nodeFloor = (args, opts) => measure(NODE, [FLOORS, ...args], opts);
function forgetSkopeoCache() {
  for (const f of SKOPEO_CACHES) rmSync(f, { force: true });
}
const skopeo = (args, opts) => {
  // Without its blob-info cache skopeo must ask the registry, as ferry does; with it, a "new"
  // push would mount from the previous repository instead of uploading.
  forgetSkopeoCache();
  return measure(SKOPEO, ['copy', '--quiet', ...args], opts);
};

// ---------------------------------------------------------------------------------------------
// Results

/** case id → { label, bytes, ferry: [], skopeo: [], raw: [], node: [], note } */
const results = new Map();
function record(id, label, bytes, tool, sample, busy, note) {
  if (!results.has(id))
    results.set(id, {
      id,
      label,
      bytes,
      ferry: [],
      skopeo: [],
      orasgo: [],
      raw: [],
      node: [],
      note,
    });
  const entry = results.get(id);
  entry[tool].push({
    seconds: sample.seconds,
    rssMiB: sample.rssMiB,
    cpu: sample.cpu ?? NaN,
    busy,
  });
  log(
    `  ${label.padEnd(30)} ${tool.padEnd(6)} ${sample.seconds.toFixed(3).padStart(8)} s` +
      (Number.isFinite(sample.rssMiB) ? `  ${sample.rssMiB.toFixed(0).padStart(5)} MiB` : '') +
      (Number.isFinite(sample.cpu) ? `  cpu ${sample.cpu.toFixed(2)} s` : '') +
      `  (others busy ${busy.toFixed(2)} cores, load ${loadavg()[0].toFixed(2)})`,
  );
}

/**
 * Runs `RUNS` iterations; in each, every tool once. The order rotates per iteration so no tool is
 * always first after a quiet spell (or always last after another tool's writeback).
 */
async function iterate(tools) {
  for (let i = 0; i < RUNS; i++) {
    const order = tools.map((_, k) => tools[(k + i) % tools.length]);
    for (const run of order) await run(i);
  }
}

// ---------------------------------------------------------------------------------------------
// Data

async function writeRandom(path, size) {
  const fh = await open(path, 'w');
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(Math.min(size, 4 * MiB));
  try {
    for (let left = size; left > 0;) {
      const n = Math.min(left, buf.length);
      randomFillSync(buf, 0, n);
      hash.update(buf.subarray(0, n));
      await fh.write(buf, 0, n);
      left -= n;
    }
  } finally {
    await fh.close();
  }
  return `sha256:${hash.digest('hex')}`;
}

async function sha256File(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

function dirBytes(dir) {
  let total = 0;
  for (const e of spawnSync('find', [dir, '-type', 'f', '-printf', '%s\n'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean))
    total += Number(e);
  return total;
}

// ---------------------------------------------------------------------------------------------
// Main

const { startRegistry } = await import(pathToFileURL(HARNESS).href);
const WORK = await mkdtemp(join(env.BENCH_TMPDIR ?? tmpdir(), 'ferry-bench-'));
let registry;
let cleaningUp;
async function cleanup() {
  cleaningUp ??= (async () => {
    if (current?.pid) {
      try {
        // GNU time forwards no signal; the measured command shares its process group.
        process.kill(-current.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    await registry?.stop();
    await rm(WORK, { recursive: true, force: true, maxRetries: 3 });
  })();
  return cleaningUp;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    log(`\nbench: ${signal}, cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}

const benchStarted = performance.now();
try {
  await main();
} catch (error) {
  log(`\nbench failed: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  log(`bench: total ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`);
}

async function main() {
  log(
    `bench: ${QUICK ? 'QUICK ' : ''}${RUNS} run(s) per case; work dir ${WORK}; ` +
      `node ${process.version}, ${cpus().length} CPUs, ${(totalmem() / GiB).toFixed(1)} GiB RAM, load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );
  log(`bench: ferry at ${CODE.commit}`);
  registry = await startRegistry({ mode: 'anonymous' });
  const host = registry.host;
  log(`bench: registry:2 at ${registry.url} (storage ${registry.storageDir})`);
  const peer = buildOrasGoPeer(WORK);
  ORAS_GO = peer.binary;
  log(
    peer.binary
      ? `bench: oras-go peer built (${peer.binary})`
      : `bench: no oras-go column: ${peer.message}`,
  );

  if (enabled('throttled')) await throttledPull(host);
  // Only the throttled case asked for: none of the data below is needed.
  if (ONLY && [...ONLY].every((id) => id === 'throttled')) return report();

  // ---- data ----
  const data = join(WORK, 'data');
  await mkdir(data);
  const t0 = performance.now();
  const bigDigest = await writeRandom(join(data, 'big.bin'), SIZES.big);
  const smallNames = [];
  await mkdir(join(data, 'small'));
  for (let i = 0; i < SIZES.smallCount; i++) {
    const name = `small/f${String(i).padStart(4, '0')}.bin`;
    await writeFile(join(data, name), randomFillSync(Buffer.allocUnsafe(SIZES.smallSize)));
    smallNames.push(name);
  }
  const shardNames = [];
  await mkdir(join(data, 'model'));
  for (let i = 0; i < SIZES.shards; i++) {
    const name = `model/shard-${String(i).padStart(2, '0')}.safetensors`;
    await writeRandom(join(data, name), SIZES.shardSize);
    shardNames.push(name);
  }
  const smallBytes = SIZES.smallCount * SIZES.smallSize;
  const modelBytes = SIZES.shards * SIZES.shardSize;
  // ARG_MAX is ~2 MiB on Linux (and one argument may be 128 KiB); 1,000 short relative paths are
  // ~20 KB, so they go as separate arguments, which is what a user would type (small/*).
  const argBytes = smallNames.reduce((n, s) => n + s.length + 1, 0);
  log(
    `bench: data in ${((performance.now() - t0) / 1000).toFixed(1)} s: big.bin ${human(SIZES.big)}, ` +
      `${SIZES.smallCount} × ${human(SIZES.smallSize)} (argv ${argBytes} bytes), ${SIZES.shards} × ${human(SIZES.shardSize)}`,
  );

  // ---- OCI layouts for skopeo (same bytes as uncompressed layers, built by ferry) ----
  const layouts = join(WORK, 'layouts');
  await mkdir(layouts);
  const layout = (name) => join(layouts, name);
  const t1 = performance.now();
  await ferry(['push', '--oci-layout', `${layout('big')}:v1`, 'big.bin'], {
    cwd: data,
    rss: false,
  });
  await ferry(['push', '--oci-layout', `${layout('small')}:v1`, ...smallNames], {
    cwd: data,
    rss: false,
  });
  await ferry(['push', '--oci-layout', `${layout('model')}:v1`, ...shardNames], {
    cwd: data,
    rss: false,
  });
  log(`bench: OCI layouts for skopeo in ${((performance.now() - t1) / 1000).toFixed(1)} s`);

  const scratch = join(WORK, 'scratch');
  await mkdir(scratch);
  let seq = 0;
  const fresh = (prefix) => join(scratch, `${prefix}-${++seq}`);
  const clearScratch = async () => {
    for (const e of await readdir(scratch))
      await rm(join(scratch, e), { recursive: true, force: true });
  };
  let verified = false;
  const checkPulled = async (path, bytes, digest) => {
    const size = statSync(path).size;
    if (size !== bytes) throw new Error(`${path}: ${size} bytes, expected ${bytes}`);
    if (digest && !verified) {
      const actual = await sha256File(path);
      if (actual !== digest) throw new Error(`${path}: ${actual}, expected ${digest}`);
      verified = true;
    }
  };
  const skopeoDest = ['--preserve-digests', '--dest-tls-verify=false'];
  const skopeoSrc = ['--src-tls-verify=false', '--dest-oci-accept-uncompressed-layers'];
  const big = `big file ${human(SIZES.big)}`;

  // ---- push 1 GiB into a new repository ----
  if (enabled('push-new') || enabled('push-present') || enabled('pull')) {
    log(`\n== push ${big}, new repository each run ==`);
    await iterate([
      async (i) => {
        const busy = await settle();
        record(
          'push-new',
          `push ${big} (new)`,
          SIZES.big,
          'ferry',
          await ferry(['push', `${host}/b/new-${i}:v1`, 'big.bin'], {
            cwd: data,
            env: pushCache(`big-${i}`),
          }),
          busy,
        );
      },
      async (i) => {
        const busy = await settle();
        record(
          'push-new',
          `push ${big} (new)`,
          SIZES.big,
          'skopeo',
          await skopeo([
            ...skopeoDest,
            `oci:${layout('big')}:v1`,
            `docker://${host}/s/new-${i}:v1`,
          ]),
          busy,
        );
      },
      async (i) => {
        // A plain monolithic upload: POST for a session, one PUT with the body and the (known)
        // digest. No manifest, no hashing: the floor for moving these bytes into this registry.
        const busy = await settle();
        const started = performance.now();
        const post = await measure(
          'curl',
          [
            '-sS',
            '-f',
            '-X',
            'POST',
            '-o',
            '/dev/null',
            '-D',
            '-',
            `${registry.url}/v2/r/new-${i}/blobs/uploads/`,
          ],
          { rss: false },
        );
        const location = /^location:\s*(\S+)/im.exec(post.stdout)?.[1];
        if (!location) throw new Error(`no upload location in:\n${post.stdout}`);
        // Appended, not rebuilt: the registry's _state parameter is opaque.
        const url = new URL(location, registry.url).href;
        const put = `${url}${url.includes('?') ? '&' : '?'}digest=${encodeURIComponent(bigDigest)}`;
        await measure(
          'curl',
          [
            '-sS',
            '-f',
            '-o',
            '/dev/null',
            '-H',
            'Content-Type: application/octet-stream',
            '-T',
            'big.bin',
            put,
          ],
          { cwd: data, rss: false },
        );
        const seconds = (performance.now() - started) / 1000;
        record('push-new', `push ${big} (new)`, SIZES.big, 'raw', { seconds, rssMiB: NaN }, busy);
      },
      async (i) => {
        if (!ORAS_GO) return;
        const busy = await settle();
        const s = await measure(ORAS_GO, ['push', `${host}/o/new-${i}:v1`, 'big.bin'], {
          cwd: data,
        });
        record('push-new', `push ${big} (new)`, SIZES.big, 'orasgo', s, busy);
      },
      async (i) => {
        // The same monolithic upload from node with undici: its memory is the floor for ferry's.
        const busy = await settle();
        const args = ['push', registry.url, `n/new-${i}`, join(data, 'big.bin'), bigDigest];
        record('push-new', `push ${big} (new)`, SIZES.big, 'node', await nodeFloor(args), busy);
      },
    ]);
  }

  // ---- push again: the blob is there ----
  if (enabled('push-present')) {
    log(`\n== push ${big} again (blob present) ==`);
    await iterate([
      async (i) => {
        const busy = await settle();
        record(
          'push-present',
          `push ${big} (present)`,
          SIZES.big,
          'ferry',
          await ferry(['push', `${host}/b/new-${i}:v1`, 'big.bin'], {
            cwd: data,
            env: pushCache(`big-${i}`),
          }),
          busy,
        );
      },
      async (i) => {
        const busy = await settle();
        record(
          'push-present',
          `push ${big} (present)`,
          SIZES.big,
          'skopeo',
          await skopeo([
            ...skopeoDest,
            `oci:${layout('big')}:v1`,
            `docker://${host}/s/new-${i}:v1`,
          ]),
          busy,
        );
      },
      async (i) => {
        // oras-go keeps no digest cache: it always hashes the file, then asks the registry.
        if (!ORAS_GO) return;
        const busy = await settle();
        const s = await measure(ORAS_GO, ['push', `${host}/o/new-${i}:v1`, 'big.bin'], {
          cwd: data,
        });
        record(
          'push-present-cold',
          `push ${big} (present, no digest cache)`,
          SIZES.big,
          'orasgo',
          s,
          busy,
        );
      },
      async (i) => {
        // The same again from a machine that never pushed the file (no digest cache): ferry has
        // to hash it, and starts streaming it meanwhile, stopping once the digest says "exists".
        const busy = await settle();
        record(
          'push-present-cold',
          `push ${big} (present, no digest cache)`,
          SIZES.big,
          'ferry',
          await ferry(['push', `${host}/b/new-${i}:v1`, 'big.bin'], {
            cwd: data,
            env: pushCache(`big-cold-${i}`),
          }),
          busy,
        );
      },
    ]);
  }

  // ---- pull 1 GiB to a file ----
  if (enabled('pull')) {
    log(`\n== pull ${big} ==`);
    await iterate([
      async () => {
        const out = fresh('ferry-out');
        const cache = fresh('ferry-cache');
        const busy = await settle();
        const s = await ferry(['pull', `${host}/b/new-0:v1`, '-o', out, '--cache-dir', cache]);
        record('pull', `pull ${big}`, SIZES.big, 'ferry', s, busy);
        await checkPulled(join(out, 'big.bin'), SIZES.big, bigDigest);
        await clearScratch();
      },
      async () => {
        // The cost of an independent copy kept in the cache (a second write where there are no
        // reflinks), then the same pull with that cache warm (the blob is not fetched again).
        const out = fresh('ferry-out');
        const cache = fresh('ferry-cache');
        const busy = await settle();
        const pull = ['pull', `${host}/b/new-0:v1`, '-o', out, '--cache-dir', cache];
        const s = await ferry([...pull, '--keep-in-cache']);
        record('pull-keep', `pull ${big} (ferry --keep-in-cache)`, SIZES.big, 'ferry', s, busy);
        await checkPulled(join(out, 'big.bin'), SIZES.big, bigDigest);
        const out2 = fresh('ferry-out');
        const busy2 = await settle();
        record(
          'pull-cached',
          `pull ${big} (ferry cache warm)`,
          SIZES.big,
          'ferry',
          await ferry(['pull', `${host}/b/new-0:v1`, '-o', out2, '--cache-dir', cache]),
          busy2,
        );
        await checkPulled(join(out2, 'big.bin'), SIZES.big);
        await clearScratch();
      },
      async () => {
        const out = fresh('skopeo-out');
        const busy = await settle();
        record(
          'pull',
          `pull ${big}`,
          SIZES.big,
          'skopeo',
          await skopeo([...skopeoSrc, `docker://${host}/s/new-0:v1`, `oci:${out}:v1`]),
          busy,
        );
        await checkPulled(join(out, 'blobs', ...bigDigest.split(':')), SIZES.big);
        await clearScratch();
      },
      async () => {
        if (!ORAS_GO) return;
        const out = fresh('orasgo-out');
        const busy = await settle();
        const s = await measure(ORAS_GO, ['pull', `${host}/b/new-0:v1`, out]);
        record('pull', `pull ${big}`, SIZES.big, 'orasgo', s, busy);
        await checkPulled(join(out, 'big.bin'), SIZES.big, bigDigest);
        await clearScratch();
      },
      async () => {
        const out = fresh('curl-out');
        const busy = await settle();
        const s = await measure(
          'curl',
          ['-sS', '-f', '-o', out, `${registry.url}/v2/b/new-0/blobs/${bigDigest}`],
          { rss: false },
        );
        record('pull', `pull ${big}`, SIZES.big, 'raw', s, busy);
        await checkPulled(out, SIZES.big);
        await clearScratch();
      },
      async () => {
        const out = fresh('node-out');
        const busy = await settle();
        // The floor keeps ferry's promise too: verified, fsync'ed, renamed (issue 17).
        const s = await nodeFloor([
          'pull-durable',
          `${registry.url}/v2/b/new-0/blobs/${bigDigest}`,
          out,
        ]);
        if (s.stdout.trim() !== bigDigest) throw new Error(`node floor pulled ${s.stdout}`);
        record('pull', `pull ${big}`, SIZES.big, 'node', s, busy);
        await checkPulled(out, SIZES.big);
        await clearScratch();
      },
    ]);
  }

  // ---- issue 17: 512 MiB push (new) and pull, with every tool's peak RSS ----
  if (enabled('half')) {
    const halfLabel = `file ${human(SIZES.half)}`;
    log(`\n== push and pull ${halfLabel} (peak RSS of each tool) ==`);
    await writeRandom(join(data, 'half.bin'), SIZES.half);
    await ferry(['push', '--oci-layout', `${layout('half')}:v1`, 'half.bin'], {
      cwd: data,
      rss: false,
    });
    const halfDigest = await sha256File(join(data, 'half.bin'));
    await iterate([
      async (i) => {
        const busy = await settle();
        const s = await ferry(['push', `${host}/b/half-${i}:v1`, 'half.bin'], {
          cwd: data,
          env: pushCache(`half-${i}`),
        });
        record('half-push', `push ${halfLabel} (new)`, SIZES.half, 'ferry', s, busy);
      },
      async (i) => {
        const busy = await settle();
        const s = await skopeo([
          ...skopeoDest,
          `oci:${layout('half')}:v1`,
          `docker://${host}/s/half-${i}:v1`,
        ]);
        record('half-push', `push ${halfLabel} (new)`, SIZES.half, 'skopeo', s, busy);
      },
      async (i) => {
        if (!ORAS_GO) return;
        const busy = await settle();
        const s = await measure(ORAS_GO, ['push', `${host}/o/half-${i}:v1`, 'half.bin'], {
          cwd: data,
        });
        record('half-push', `push ${halfLabel} (new)`, SIZES.half, 'orasgo', s, busy);
      },
      async (i) => {
        // The least memory a Node push with undici needs: one streamed PUT, 1 MiB file reads.
        const busy = await settle();
        const s = await nodeFloor(['push', registry.url, `n/half-${i}`, 'half.bin', halfDigest], {
          cwd: data,
        });
        record('half-push', `push ${halfLabel} (new)`, SIZES.half, 'node', s, busy);
      },
    ]);
    await iterate([
      async () => {
        const out = fresh('ferry-out');
        const busy = await settle();
        const s = await ferry([
          'pull',
          `${host}/b/half-0:v1`,
          '-o',
          out,
          '--cache-dir',
          fresh('ferry-cache'),
        ]);
        record('half-pull', `pull ${halfLabel}`, SIZES.half, 'ferry', s, busy);
        await checkPulled(join(out, 'half.bin'), SIZES.half);
        await clearScratch();
      },
      async () => {
        const out = fresh('skopeo-out');
        const busy = await settle();
        const s = await skopeo([...skopeoSrc, `docker://${host}/s/half-0:v1`, `oci:${out}:v1`]);
        record('half-pull', `pull ${halfLabel}`, SIZES.half, 'skopeo', s, busy);
        await clearScratch();
      },
      async () => {
        if (!ORAS_GO) return;
        const out = fresh('orasgo-out');
        const busy = await settle();
        const s = await measure(ORAS_GO, ['pull', `${host}/o/half-0:v1`, out]);
        record('half-pull', `pull ${halfLabel}`, SIZES.half, 'orasgo', s, busy);
        await checkPulled(join(out, 'half.bin'), SIZES.half);
        await clearScratch();
      },
      async () => {
        // The memory floor of a pull: a plain socket read into one fixed buffer, two reused
        // write batches, nothing allocated per read (floors.mjs pull-reused). The undici floor
        // (pull-durable) is the 1 GiB row's.
        const out = fresh('node-out');
        const busy = await settle();
        const s = await nodeFloor([
          'pull-reused',
          `${registry.url}/v2/n/half-0/blobs/${halfDigest}`,
          out,
        ]);
        if (s.stdout.trim() !== halfDigest) throw new Error(`node floor pulled ${s.stdout}`);
        record('half-pull', `pull ${halfLabel}`, SIZES.half, 'node', s, busy);
        await checkPulled(out, SIZES.half);
        await clearScratch();
      },
    ]);
    await rm(join(data, 'half.bin'), { force: true });
  }

  // ---- 1,000 small files ----
  const smallLabel = `${SIZES.smallCount} × ${human(SIZES.smallSize)} files`;
  if (enabled('small')) {
    log(`\n== ${smallLabel} as one artifact (one layer each) ==`);
    await iterate([
      async (i) => {
        const busy = await settle();
        record(
          'small-push',
          `push ${smallLabel}`,
          smallBytes,
          'ferry',
          await ferry(['push', `${host}/b/small-${i}:v1`, ...smallNames], {
            cwd: data,
            env: pushCache(`small-${i}`),
          }),
          busy,
        );
      },
      async (i) => {
        const busy = await settle();
        record(
          'small-push',
          `push ${smallLabel}`,
          smallBytes,
          'skopeo',
          await skopeo([
            ...skopeoDest,
            `oci:${layout('small')}:v1`,
            `docker://${host}/s/small-${i}:v1`,
          ]),
          busy,
        );
      },
      async (i) => {
        const busy = await settle();
        const args = [registry.url, `n/small-${i}`, join(data, 'small'), SMALL_FLOOR_CONCURRENCY];
        record(
          'small-push',
          `push ${smallLabel}`,
          smallBytes,
          'node',
          await nodeFloor(['small-push', ...args]),
          busy,
        );
      },
    ]);
    await iterate([
      async () => {
        const out = fresh('ferry-out');
        const busy = await settle();
        record(
          'small-pull',
          `pull ${smallLabel}`,
          smallBytes,
          'ferry',
          await ferry([
            'pull',
            `${host}/b/small-0:v1`,
            '-o',
            out,
            '--cache-dir',
            fresh('ferry-cache'),
          ]),
          busy,
        );
        const got = dirBytes(out);
        if (got !== smallBytes)
          throw new Error(`ferry pulled ${got} bytes of small files, expected ${smallBytes}`);
        await clearScratch();
      },
      async () => {
        const out = fresh('skopeo-out');
        const busy = await settle();
        record(
          'small-pull',
          `pull ${smallLabel}`,
          smallBytes,
          'skopeo',
          await skopeo([...skopeoSrc, `docker://${host}/s/small-0:v1`, `oci:${out}:v1`]),
          busy,
        );
        await clearScratch();
      },
      async () => {
        if (!ORAS_GO) return;
        const out = fresh('orasgo-out');
        const busy = await settle();
        const s = await measure(ORAS_GO, ['pull', `${host}/b/small-0:v1`, out]);
        record('small-pull', `pull ${smallLabel}`, smallBytes, 'orasgo', s, busy);
        const got = dirBytes(out);
        if (got !== smallBytes)
          throw new Error(`oras-go pulled ${got} bytes of small files, expected ${smallBytes}`);
        await clearScratch();
      },
      async () => {
        const out = fresh('node-out');
        const busy = await settle();
        const args = [registry.url, 'b/small-0', 'v1', out, SMALL_PULL_FLOOR_CONCURRENCY];
        record(
          'small-pull',
          `pull ${smallLabel}`,
          smallBytes,
          'node',
          await nodeFloor(['small-pull-durable', ...args]),
          busy,
        );
        const got = dirBytes(out);
        if (got !== smallBytes)
          throw new Error(
            `the node floor pulled ${got} bytes of small files, expected ${smallBytes}`,
          );
        await clearScratch();
      },
    ]);
  }

  // ---- the model: 10 × 100 MiB ----
  const modelLabel = `model ${SIZES.shards} × ${human(SIZES.shardSize)}`;
  if (enabled('model')) {
    log(`\n== ${modelLabel} ==`);
    await iterate([
      async (i) => {
        const busy = await settle();
        record(
          'model-push',
          `push ${modelLabel} (new)`,
          modelBytes,
          'ferry',
          await ferry(['push', `${host}/b/model-${i}:v1`, ...shardNames], {
            cwd: data,
            env: pushCache(`model-${i}`),
          }),
          busy,
        );
      },
      async (i) => {
        const busy = await settle();
        record(
          'model-push',
          `push ${modelLabel} (new)`,
          modelBytes,
          'skopeo',
          await skopeo([
            ...skopeoDest,
            `oci:${layout('model')}:v1`,
            `docker://${host}/s/model-${i}:v1`,
          ]),
          busy,
        );
      },
    ]);
    await iterate([
      async () => {
        const out = fresh('ferry-out');
        const busy = await settle();
        record(
          'model-pull',
          `pull ${modelLabel}`,
          modelBytes,
          'ferry',
          await ferry([
            'pull',
            `${host}/b/model-0:v1`,
            '-o',
            out,
            '--cache-dir',
            fresh('ferry-cache'),
          ]),
          busy,
        );
        const got = dirBytes(out);
        if (got !== modelBytes)
          throw new Error(`ferry pulled ${got} bytes of the model, expected ${modelBytes}`);
        await clearScratch();
      },
      async () => {
        const out = fresh('skopeo-out');
        const busy = await settle();
        record(
          'model-pull',
          `pull ${modelLabel}`,
          modelBytes,
          'skopeo',
          await skopeo([...skopeoSrc, `docker://${host}/s/model-0:v1`, `oci:${out}:v1`]),
          busy,
        );
        await clearScratch();
      },
    ]);
  }

  // ---- start-up ----
  if (enabled('startup')) {
    log('\n== start-up: ferry --version vs node -e 0 (20 each, interleaved) ==');
    const versions = [];
    const nodes = [];
    await settle();
    for (let i = 0; i < 20; i++) {
      versions.push((await measure(NODE, [FERRY, '--version'], { rss: false })).seconds);
      nodes.push((await measure(NODE, ['-e', '0'], { rss: false })).seconds);
    }
    const rss = await measure(NODE, [FERRY, '--version']);
    const entry = {
      id: 'startup',
      label: 'ferry --version (median of 20)',
      bytes: 0,
      ferry: [],
      skopeo: [],
      raw: [],
      node: [],
    };
    entry.ferry = versions.map((seconds) => ({ seconds, rssMiB: rss.rssMiB, busy: NaN }));
    entry.raw = nodes.map((seconds) => ({ seconds, rssMiB: NaN, busy: NaN }));
    entry.note = 'raw = node -e 0';
    results.set('startup', entry);
    log(
      `  ferry --version ${(median(versions) * 1000).toFixed(0)} ms, node -e 0 ${(median(nodes) * 1000).toFixed(0)} ms`,
    );
  }

  // ---- BENCH_BIG: 4 GiB, memory must stay flat ----
  if (BIG && enabled('big')) {
    log(
      `\n== BENCH_BIG: ${human(SIZES.huge)} push and pull (ferry only; memory should match the ${human(SIZES.big)} runs) ==`,
    );
    const hugeDigest = await writeRandom(join(data, 'huge.bin'), SIZES.huge);
    for (let i = 0; i < Math.min(RUNS, 2); i++) {
      let busy = await settle();
      record(
        'huge-push',
        `push ${human(SIZES.huge)} (new)`,
        SIZES.huge,
        'ferry',
        await ferry(['push', `${host}/b/huge-${i}:v1`, 'huge.bin'], {
          cwd: data,
          env: pushCache(`huge-${i}`),
        }),
        busy,
      );
      const out = fresh('ferry-out');
      busy = await settle();
      record(
        'huge-pull',
        `pull ${human(SIZES.huge)}`,
        SIZES.huge,
        'ferry',
        await ferry([
          'pull',
          `${host}/b/huge-${i}:v1`,
          '-o',
          out,
          '--cache-dir',
          fresh('ferry-cache'),
        ]),
        busy,
      );
      await checkPulled(join(out, 'huge.bin'), SIZES.huge);
      await clearScratch();
    }
    void hugeDigest;
    await rm(join(data, 'huge.bin'), { force: true });
  }

  const after = codeStamp();
  if (after.built !== CODE.built || after.commit !== CODE.commit) {
    CODE.changed = `${CODE.commit} → ${after.commit}`;
    log(
      `bench: WARNING: the built code changed during the run (${CODE.changed}); results mix versions`,
    );
  }
  report();
}

// ---------------------------------------------------------------------------------------------
// Issue 17: one large blob through a proxy that caps each connection (as CDNs in front of
// ghcr.io, Docker Hub and S3-backed registries do). ferry fetches ranges over several
// connections (--parallel 4: on loopback its default is one stream); curl and ferry --parallel 1
// get one connection's worth.

async function throttledPull(host) {
  const { startFaultProxy } = await import(
    pathToFileURL(join(ROOT, 'e2e/dist/faults/proxy.js')).href
  );
  const dir = join(WORK, 'throttled');
  await mkdir(dir);
  const digest = await writeRandom(join(dir, 'blob.bin'), THROTTLED_SIZE);
  await ferry(['push', `${host}/t/throttled:v1`, 'blob.bin'], { cwd: dir, rss: false });
  rmSync(join(dir, 'blob.bin'));
  const proxy = await startFaultProxy({
    upstream: registry.url,
    throttle: THROTTLE_MB_S * 1e6,
  });
  log(`\n== ${throttledLabel} (proxy ${proxy.url}) ==`);
  let n = 0;
  const fresh = (name) => join(dir, `${name}-${++n}`);
  const check = async (path, verify) => {
    const size = statSync(path).size;
    if (size !== THROTTLED_SIZE) throw new Error(`${path}: ${size} bytes`);
    if (verify && (await sha256File(path)) !== digest) throw new Error(`${path}: wrong digest`);
  };
  const ferryPull = async (id, label, extra, i) => {
    const out = fresh('out');
    const busy = await settle();
    const s = await ferry([
      'pull',
      `${proxy.host}/t/throttled:v1`,
      '-o',
      out,
      '--cache-dir',
      fresh('cache'),
      ...extra,
    ]);
    record(id, label, THROTTLED_SIZE, 'ferry', s, busy);
    await check(join(out, 'blob.bin'), i === 0);
  };
  try {
    await iterate([
      // The proxy is on loopback, where ferry's default is one stream: ask for the ranges.
      (i) => ferryPull('throttled', throttledLabel, ['--parallel', '4'], i),
      (i) =>
        ferryPull('throttled-p1', `${throttledLabel}, ferry --parallel 1`, ['--parallel', '1'], i),
      async () => {
        const out = fresh('curl');
        const busy = await settle();
        const s = await measure(
          'curl',
          ['-sS', '-f', '-o', out, `${proxy.url}/v2/t/throttled/blobs/${digest}`],
          {
            rss: false,
          },
        );
        record('throttled', throttledLabel, THROTTLED_SIZE, 'raw', s, busy);
        await check(out, false);
      },
    ]);
  } finally {
    await proxy.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function report() {
  const rows = [];
  const header = [
    'work',
    'ferry median (s)',
    'skopeo median (s)',
    'oras-go median (s)',
    'raw (s)',
    'node floor (s)',
    'MB/s (ferry)',
    'ferry/skopeo',
    'ferry/oras-go',
    'ferry peak RSS (MiB)',
    'skopeo peak RSS (MiB)',
    'oras-go peak RSS (MiB)',
    'node floor peak RSS (MiB)',
    'ferry CPU (s)',
    'skopeo CPU (s)',
  ];
  const mbps = (x) =>
    !Number.isFinite(x) ? '—' : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2);
  const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
  for (const r of results.values()) {
    const f = median(r.ferry.map((s) => s.seconds));
    const s = median(r.skopeo.map((s) => s.seconds));
    const o = median(r.orasgo.map((s) => s.seconds));
    const orss = Math.max(...r.orasgo.map((s) => s.rssMiB).filter(Number.isFinite), -Infinity);
    const raw = median(r.raw.map((s) => s.seconds));
    const rss = Math.max(...r.ferry.map((s) => s.rssMiB).filter(Number.isFinite), -Infinity);
    const srss = Math.max(...r.skopeo.map((s) => s.rssMiB).filter(Number.isFinite), -Infinity);
    const nrss = Math.max(...r.node.map((s) => s.rssMiB).filter(Number.isFinite), -Infinity);
    const isStartup = r.id === 'startup';
    rows.push([
      r.label + (r.note ? ` (${r.note})` : ''),
      isStartup ? fmt(f, 3) : fmt(f),
      fmt(s),
      fmt(o),
      isStartup ? fmt(raw, 3) : fmt(raw),
      fmt(median(r.node.map((x) => x.seconds))),
      r.bytes ? mbps(r.bytes / 1e6 / f) : '—',
      fmt(f / s),
      fmt(f / o),
      fmt(rss, 0),
      fmt(srss, 0),
      fmt(orss, 0),
      fmt(nrss, 0),
      fmt(median(r.ferry.map((x) => x.cpu))),
      fmt(median(r.skopeo.map((x) => x.cpu))),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const out = [
    '',
    `ferry ${CODE.commit}, node ${process.version}, ${cpus().length} CPUs${QUICK ? ', QUICK sizes' : ''}` +
      (CODE.changed
        ? ` — WARNING: the built code changed during the run (${CODE.changed}); rerun on a quiet tree`
        : ''),
    '',
    line(header),
    `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...rows.map(line),
    '',
    `${RUNS} run(s) per tool and case, medians; peak RSS is the largest of the runs; CPU = user + sys of the process (median), less sensitive to other load than wall time. raw = curl (push: POST + one monolithic PUT with the digest known; pull: GET the blob). node floor = bench/floors.mjs, the same work with bare undici (push: POST + one streamed PUT with the digest known; pull: GET + sha256 + positional writev + fsync + rename; small files: POST + PUT, ${SMALL_FLOOR_CONCURRENCY} at once, or GET + verify + write + fsync + rename, ${SMALL_PULL_FLOOR_CONCURRENCY} at once; the ${human(SIZES.half)} pull: a plain socket read into one fixed buffer, nothing allocated per read). MB = 10^6 bytes.`,
  ];

  // Targets from the issue ("Performance: beat skopeo and ORAS on the same registry").
  const med = (id, tool) => median((results.get(id)?.[tool] ?? []).map((s) => s.seconds));
  const maxRss = (id, tool = 'ferry') =>
    Math.max(
      ...(results.get(id)?.[tool] ?? []).map((s) => s.rssMiB).filter(Number.isFinite),
      -Infinity,
    );
  const allRss = Math.max(
    ...[...results.values()].flatMap((r) => r.ferry.map((s) => s.rssMiB)).filter(Number.isFinite),
    -Infinity,
  );
  const verdict = (ok) => (ok === undefined || Number.isNaN(ok) ? 'n/a' : ok ? 'MET' : 'MISSED');
  const t = [];
  const pn = med('push-new', 'ferry');
  t.push([
    `push ${human(SIZES.big)} new ≤ 1.0× skopeo`,
    `${fmt(pn)} s vs ${fmt(med('push-new', 'skopeo'))} s = ${fmt(pn / med('push-new', 'skopeo'))}×`,
    verdict(results.has('push-new') ? pn <= med('push-new', 'skopeo') : undefined),
  ]);
  t.push([
    `push ${human(SIZES.big)} new ≤ 1.15× plain monolithic PUT`,
    `${fmt(pn)} s vs ${fmt(med('push-new', 'raw'))} s = ${fmt(pn / med('push-new', 'raw'))}×`,
    verdict(results.has('push-new') ? pn <= 1.15 * med('push-new', 'raw') : undefined),
  ]);
  const pp = med('push-present', 'ferry');
  t.push([
    `push ${human(SIZES.big)} present ≤ 0.8 s`,
    `${fmt(pp)} s`,
    verdict(results.has('push-present') ? pp <= 0.8 : undefined),
  ]);
  const pl = med('pull', 'ferry');
  t.push([
    `pull ${human(SIZES.big)} ≤ 1.8 s`,
    `${fmt(pl)} s (--keep-in-cache: ${fmt(med('pull-keep', 'ferry'))} s, cache warm: ${fmt(med('pull-cached', 'ferry'))} s; node floor ${fmt(med('pull', 'node'))} s, curl ${fmt(med('pull', 'raw'))} s)`,
    verdict(results.has('pull') ? pl <= 1.8 : undefined),
  ]);
  const sp = med('small-push', 'ferry');
  t.push([
    `push ${SIZES.smallCount} small files ≤ 1.0× oras-go (6.2–6.8 s)`,
    `${fmt(sp)} s (node floor ${fmt(med('small-push', 'node'))} s)`,
    verdict(results.has('small-push') ? sp <= 6.2 : undefined) +
      (sp > 6.2 && sp <= 6.8 ? ' (within the 6.8 s end)' : ''),
  ]);
  const sl = med('small-pull', 'ferry');
  t.push([
    `pull ${SIZES.smallCount} small files ≤ 0.9× oras-go (1.9 s) = 1.71 s`,
    `${fmt(sl)} s (node floor ${fmt(med('small-pull', 'node'))} s)`,
    verdict(results.has('small-pull') ? sl <= 1.71 : undefined),
  ]);
  const floorRss = Math.max(
    ...[...results.values()].flatMap((r) => r.node.map((s) => s.rssMiB)).filter(Number.isFinite),
    -Infinity,
  );
  t.push([
    'peak RSS ≤ 120 MiB (every ferry run)',
    `${fmt(allRss, 0)} MiB (node floor scripts: up to ${fmt(floorRss, 0)} MiB)`,
    verdict(Number.isFinite(allRss) ? allRss <= 120 : undefined),
  ]);
  const bigRss = Math.max(maxRss('push-new'), maxRss('pull'));
  const hugeRss = Math.max(maxRss('huge-push'), maxRss('huge-pull'));
  t.push([
    `${human(SIZES.huge)} peak RSS ≤ 1.1× the ${human(SIZES.big)} runs`,
    Number.isFinite(hugeRss)
      ? `${fmt(hugeRss, 0)} MiB vs ${fmt(bigRss, 0)} MiB = ${fmt(hugeRss / bigRss)}×`
      : 'not run (BENCH_BIG=1)',
    verdict(Number.isFinite(hugeRss) ? hugeRss <= 1.1 * bigRss : undefined),
  ]);
  const st = med('startup', 'ferry');
  t.push([
    'ferry --version ≤ 150 ms',
    `${fmt(st * 1000, 0)} ms (node -e 0: ${fmt(med('startup', 'raw') * 1000, 0)} ms)`,
    verdict(results.has('startup') ? st <= 0.15 : undefined),
  ]);
  // Issue 17's table: ferry against the peers, fsync on for all.
  const ratioRow = (label, id, peer, bound) => {
    const f = med(id, 'ferry');
    const p = med(id, peer);
    t.push([
      label,
      `${fmt(f)} s vs ${fmt(p)} s = ${fmt(f / p)}×` +
        (Number.isFinite(med(id, 'node')) ? ` (node floor ${fmt(med(id, 'node'))} s)` : ''),
      verdict(results.has(id) && Number.isFinite(p) ? f <= bound * p : undefined),
    ]);
  };
  ratioRow(`push ${human(SIZES.half)} new ≤ 1.0× skopeo (issue 17)`, 'half-push', 'skopeo', 1);
  ratioRow(`push ${human(SIZES.big)} new ≤ 1.0× skopeo (issue 17)`, 'push-new', 'skopeo', 1);
  ratioRow(
    `push ${human(SIZES.big)} present, no digest cache ≤ 0.5× oras-go (issue 17)`,
    'push-present-cold',
    'orasgo',
    0.5,
  );
  ratioRow(`pull ${human(SIZES.big)} ≤ 0.7× oras-go, with fsync (issue 17)`, 'pull', 'orasgo', 0.7);
  ratioRow(
    `pull ${SIZES.smallCount} small files ≤ 1.0× oras-go (issue 17)`,
    'small-pull',
    'orasgo',
    1,
  );
  const halfRss = Math.max(maxRss('half-push'), maxRss('half-pull'));
  t.push([
    `peak RSS of the ${human(SIZES.half)} push and pull ≤ 80 MiB (issue 17)`,
    `${fmt(halfRss, 0)} MiB (node floors: push ${fmt(maxRss('half-push', 'node'), 0)} MiB with undici, pull ${fmt(maxRss('half-pull', 'node'), 0)} MiB with nothing allocated per read)`,
    verdict(Number.isFinite(halfRss) ? halfRss <= 80 : undefined),
  ]);
  const th = med('throttled', 'ferry');
  const thCurl = med('throttled', 'raw');
  t.push([
    `${throttledLabel} ≤ 0.35× one curl stream (issue 17)`,
    `${fmt(th)} s vs curl ${fmt(thCurl)} s = ${fmt(th / thCurl)}× (ferry --parallel 1: ${fmt(med('throttled-p1', 'ferry'))} s)`,
    verdict(results.has('throttled') ? th <= 0.35 * thCurl : undefined),
  ]);
  for (const row of t) if (row[2] === 'n/a' && !row[1].startsWith('not run')) row[1] = 'not run';
  out.push(
    '',
    `Targets${QUICK ? ' (QUICK run: sizes differ from the targets, so these verdicts are only indicative)' : ''}:`,
    '',
  );
  const tw = [0, 1, 2].map((i) =>
    Math.max(...t.map((r) => r[i].length), ['target', 'measured', 'verdict'][i].length),
  );
  const tl = (cells) => `| ${cells.map((c, i) => c.padEnd(tw[i])).join(' | ')} |`;
  out.push(
    tl(['target', 'measured', 'verdict']),
    `|${tw.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...t.map(tl),
  );

  out.push('', 'Samples (s):');
  for (const r of results.values()) {
    for (const tool of ['ferry', 'skopeo', 'orasgo', 'raw', 'node']) {
      if (!r[tool].length) continue;
      out.push(
        `  ${r.label} — ${tool}: ${r[tool].map((s) => s.seconds.toFixed(3)).join(', ')}` +
          (r[tool].some((s) => Number.isFinite(s.busy))
            ? `  [others busy: ${r[tool].map((s) => s.busy.toFixed(2)).join(', ')} cores]`
            : ''),
      );
    }
  }
  process.stdout.write(out.join('\n') + '\n');
  if (env.BENCH_JSON) {
    const json = {
      code: CODE,
      when: new Date().toISOString(),
      quick: QUICK,
      runs: RUNS,
      sizes: SIZES,
      results: [...results.values()],
    };
    writeFileSync(env.BENCH_JSON, JSON.stringify(json, null, 2) + '\n');
  }
}
