/** --artifact-type: the OCI 1.1 artifactType an artifact or index gets, or that referrers match. */
import { type ArgsOf, onceText, optionGroup } from './group.js';

const single = (value: string | string[]): string => onceText('artifact-type', value);

export function artifactTypeOption(describe: string) {
  return optionGroup({ 'artifact-type': { type: 'string', describe, coerce: single } });
}
export type ArtifactTypeArgs = ArgsOf<ReturnType<typeof artifactTypeOption>>;

/** attach: a referrer must say what it is. */
export function requiredArtifactTypeOption(describe: string) {
  return optionGroup({
    'artifact-type': { type: 'string', demandOption: true, describe, coerce: single },
  });
}
export type RequiredArtifactTypeArgs = ArgsOf<ReturnType<typeof requiredArtifactTypeOption>>;
