/**
 * `--artifact-platform os/arch[/variant][:os.version]` on push and attach (ORAS 1.3,
 * experimental): the artifact's config becomes an image config holding just that platform
 * (`application/vnd.oci.image.config.v1+json`, Go's field order), so that `manifest index
 * create`, `pull --platform` and other clients read the platform as they read an image's.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goJson, MediaTypeUnknownArtifact } from '@ferry/artifact';
import { MediaType, parsePlatform } from '@ferry/oci';
import { UsageError } from '../exit.js';
import { splitFileArgument } from './publish.js';

export interface ConfigChoice {
  config?: { path: string; mediaType?: string } | undefined;
  /** Set when the platform config needs an artifact type the user did not give (v1.1). */
  artifactType?: string | undefined;
  imageSpec?: 'v1.1' | 'v1.0' | undefined;
  cleanup(): Promise<void>;
}

/** The platform's config bytes: `{"architecture":…,"os":…[,"os.version":…][,"variant":…]}`. */
export function platformConfigBytes(input: string): Buffer {
  parsePlatform(input); // refuses what is no platform, with the usual message
  const colon = input.indexOf(':');
  const [os = '', architecture = '', variant] = (colon < 0 ? input : input.slice(0, colon)).split(
    '/',
  );
  const osVersion = colon < 0 ? undefined : input.slice(colon + 1);
  return Buffer.from(
    goJson({
      architecture,
      os,
      ...(osVersion ? { 'os.version': osVersion } : {}),
      ...(variant ? { variant } : {}),
    }),
  );
}

/** The config for a push or attach from `--config` or `--artifact-platform` (never both). */
export async function chooseConfig(args: {
  config?: string | undefined;
  'artifact-platform'?: string | undefined;
  'artifact-type'?: string | undefined;
  'image-spec'?: 'v1.1' | 'v1.0' | undefined;
}): Promise<ConfigChoice> {
  const platform = args['artifact-platform'];
  if (platform === undefined) {
    const given = args.config ? splitFileArgument(args.config) : undefined;
    return {
      ...(given
        ? {
            config: {
              path: given.path,
              ...(given.mediaType ? { mediaType: given.mediaType } : {}),
            },
          }
        : {}),
      cleanup: async () => {},
    };
  }
  if (args.config !== undefined) {
    throw new UsageError('--config and --artifact-platform cannot both be given');
  }
  const bytes = platformConfigBytes(platform);
  const dir = await mkdtemp(join(tmpdir(), 'ferry-platform-'));
  const path = join(dir, 'config.json');
  await writeFile(path, bytes);
  const imageSpec = args['image-spec'] ?? 'v1.1';
  return {
    config: { path, mediaType: MediaType.OciConfig },
    imageSpec,
    ...(imageSpec === 'v1.1' && !args['artifact-type']
      ? { artifactType: MediaTypeUnknownArtifact }
      : {}),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
