/**
 * --platform os/arch[/variant][:os.version] (which manifest of an index a command means) and
 * push's and attach's --artifact-platform (the platform an artifact's config declares). Both are
 * parsed as the command line is read, so a bad value is a usage error that names the flag before
 * any registry is contacted.
 */
import { FerryError, parsePlatform, type Platform } from '@ferry/oci';
import { UsageError } from '../exit.js';
import { type ArgsOf, onceText, optionGroup } from './group.js';

/** `value` as a platform, or a usage error naming `flag` and the value. */
export function platformFlag(flag: string, value: string | string[]): Platform {
  try {
    return parsePlatform(onceText(flag, value));
  } catch (error) {
    if (error instanceof FerryError && !(error instanceof UsageError)) {
      throw new UsageError(`--${flag}: ${error.message}`);
    }
    throw error;
  }
}

/** --platform, described for what the command does with the platform's manifest. */
export function platformOption(describe: string) {
  return optionGroup({
    platform: {
      type: 'string',
      describe,
      // An empty value, as ORAS, means no platform.
      coerce: (value: string | string[]): Platform | undefined =>
        value === '' ? undefined : platformFlag('platform', value),
    },
  });
}
export type PlatformArgs = ArgsOf<ReturnType<typeof platformOption>>;

/** --artifact-platform: checked here, kept as written (the config records it as given). */
export const artifactPlatformOption = optionGroup({
  'artifact-platform': {
    type: 'string',
    describe:
      'os/arch[/variant][:os.version]: a config that declares this platform (not with --config)',
    coerce: (value: string | string[]): string => {
      const given = onceText('artifact-platform', value);
      platformFlag('artifact-platform', given);
      return given;
    },
  },
});
export type ArtifactPlatformArgs = ArgsOf<typeof artifactPlatformOption>;
