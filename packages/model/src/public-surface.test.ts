// @ferry/model's public face, pinned: adding or removing an export of index.ts fails here, so that
// either is a decision made in review (and a changeset), never a side effect of `export *`.
// Keep each list one name per line; order does not matter to the comparison.
import { pinPublicSurface } from '../../../scripts/public-surface.mjs';

const VALUES = [
  'inspectModel',
  'MODEL_KINDS',
  'ModelErrorCode',
  'packModel',
  'pullModel',
  'selectFiles',
];

const TYPES = [
  'InspectedModel',
  'KindOverrides',
  'ModelFacts',
  'ModelFile',
  'ModelFormat',
  'ModelKind',
  'ModelView',
  'PackedModel',
  'Packing',
  'PackModelOptions',
  'PulledFile',
  'PullModelOptions',
  'SelectOptions',
];

pinPublicSurface({
  name: '@ferry/model',
  indexUrl: new URL('./index.ts', import.meta.url),
  load: () => import('./index.js'),
  values: VALUES,
  types: TYPES,
});
