import { bottleUploadCredentials, mirrorBottles } from '@ferry/homebrew';
import type { BottleMirrorArgs } from './args/bottle.js';
import type { Context } from '../context.js';
import { UsageError } from '../exit.js';
import { describe, plural, printResult, printStatus } from '../output.js';
import { bottleSource, oneDocument, uploadTargets } from './bottle-shared.js';

export async function run(context: Context, args: BottleMirrorArgs): Promise<void> {
  const to = (args.to ?? '').replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  const slash = to.indexOf('/');
  const host = slash < 0 ? to : to.slice(0, slash);
  if (!host) {
    throw new UsageError(
      `--to needs a registry, optionally with a path prefix, e.g. localhost:5000 or localhost:5000/mirror (got ${JSON.stringify(args.to)})`,
    );
  }
  const prefix = slash < 0 ? '' : to.slice(slash + 1);
  // -u/-p/--password-stdin are the destination's, as in cp; the source is reached as Homebrew
  // reaches it (its token variables, or config.json).
  const source = bottleSource(context, args, 'from');
  // Writing is uploading: no anonymous ghcr.io token, no artifact-domain redirection.
  // HOMEBREW_GITHUB_PACKAGES_USER/TOKEN are GitHub Packages credentials: a mirror elsewhere never
  // gets them (a push goes where its bottle JSON's root_url says, as with brew).
  const ghcrHost = process.env.FERRY_TEST_GHCR_HOST?.trim() || 'ghcr.io';
  const envCredentials = host === ghcrHost ? bottleUploadCredentials() : undefined;
  const destination = uploadTargets(context, envCredentials);
  const tags = Array.isArray(args.tag) ? args.tag : args.tag ? [args.tag] : undefined;
  const mirrored = await mirrorBottles({
    formulas: args.formulas,
    namespace: source.coreNamespace,
    toPrefix: prefix,
    ...(args.version ? { version: args.version } : {}),
    ...(tags ? { tags } : {}),
    withDeps: args['with-deps'] === true,
    concurrency: args.concurrency,
    openSource: source.open,
    openDestination: (repository) => destination.open(host, repository),
    onEvent: (event) => {
      if (event.type === 'copied' || event.type === 'mounted') {
        printStatus(
          context,
          event.type === 'copied' ? 'Copied' : 'Mounted',
          describe(event.descriptor),
          event.descriptor.digest,
        );
      }
    },
  });
  // What brew needs to read this mirror: `https://ghcr.io/` replaced by the registry (and prefix).
  const artifactDomain = `${context.args['plain-http'] || /^(localhost|127\.|\[::1\])/.test(host) ? 'http' : 'https'}://${host}${prefix ? `/v2/${prefix}` : ''}`;
  const text = [
    ...mirrored.flatMap((image) => [
      `Mirrored ${source.host}/${image.repository}:${image.imageTag} => ${host}/${image.destination}:${image.imageTag} (${plural(image.bottleTags.length, 'bottle')}, ${image.transferred === 0 ? 'already up to date' : `${image.transferred} transferred`})`,
      `Digest: ${image.indexDigest}`,
    ]),
    `For Homebrew: HOMEBREW_ARTIFACT_DOMAIN=${artifactDomain}`,
  ];
  const images = mirrored.map((image) => ({
    reference: `${host}/${image.destination}@${image.indexDigest}`,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest: image.indexDigest,
    size: image.indexSize,
    referenceAsTag: `${host}/${image.destination}:${image.imageTag}`,
    source: `${source.host}/${image.repository}:${image.imageTag}`,
    imageTag: image.imageTag,
    bottleTags: image.bottleTags,
    transferred: image.transferred,
  }));
  printResult(context, text, oneDocument(images, 'images'));
}
