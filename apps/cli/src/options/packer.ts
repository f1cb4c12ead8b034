/**
 * ORAS's packer options, for commands that build a manifest from files (push, attach, model
 * push, manifest index): annotations, the config, the manifest flavour and where else the
 * manifest goes.
 */
import { type ArgsOf, onceText, optionGroup } from './group.js';

/** -a key=value (repeatable), on the manifest or index. */
export function annotationOption(describe: string) {
  return optionGroup({ annotation: { alias: 'a', type: 'string', array: true, describe } });
}
export type AnnotationArgs = ArgsOf<ReturnType<typeof annotationOption>>;

export const annotationFileOption = optionGroup({
  'annotation-file': {
    type: 'string',
    describe: 'JSON file of annotations: {"$manifest": {…}, "$config": {…}, "<file>": {…}}',
    coerce: (value: string | string[]): string => onceText('annotation-file', value),
  },
});
export type AnnotationFileArgs = ArgsOf<typeof annotationFileOption>;

export function digestCacheOption(describe: string) {
  return optionGroup({ 'digest-cache': { type: 'boolean', default: true, describe } });
}
export type DigestCacheArgs = ArgsOf<ReturnType<typeof digestCacheOption>>;

export const configOption = optionGroup({
  config: {
    type: 'string',
    describe: 'Config file[:mediaType] instead of the empty config',
    coerce: (value: string | string[]): string => onceText('config', value),
  },
});
export type ConfigArgs = ArgsOf<typeof configOption>;

export const IMAGE_SPECS = ['v1.1', 'v1.0'] as const;

/** --image-spec, described with the command's own rule for the default. */
export function imageSpecOption(describe: string) {
  return optionGroup({ 'image-spec': { choices: IMAGE_SPECS, describe } });
}
export type ImageSpecArgs = ArgsOf<ReturnType<typeof imageSpecOption>>;

export function exportManifestOption(describe: string) {
  return optionGroup({
    'export-manifest': {
      type: 'string',
      describe,
      coerce: (value: string | string[]): string => onceText('export-manifest', value),
    },
  });
}
export type ExportManifestArgs = ArgsOf<ReturnType<typeof exportManifestOption>>;

export const pathValidationOption = optionGroup({
  'disable-path-validation': {
    type: 'boolean',
    describe: 'Allow absolute paths and .. in file titles',
  },
});
export type PathValidationArgs = ArgsOf<typeof pathValidationOption>;
