// @ferry/registry's public face, pinned: adding or removing an export of index.ts fails here, so that
// either is a decision made in review (and a changeset), never a side effect of `export *`.
// Keep each list one name per line; order does not matter to the comparison.
import { pinPublicSurface } from '../../../scripts/public-surface.mjs';

const VALUES = [
  'BackgroundSync',
  'DEFAULT_SYNC_EVERY',
  'NetworkError',
  'BlobStore',
  'CredentialErrorCode',
  'credentialProvider',
  'CredentialStore',
  'DEFAULT_PARALLEL_DOWNLOADS',
  'DEFAULT_PARALLEL_THRESHOLD',
  'isLoopbackHost',
  'makeDirectory',
  'ManifestStore',
  'referrersTag',
  'Registry',
  'RegistryError',
  'RegistryErrorCode',
  'Repository',
];

const TYPES = [
  'RegistryResourceKind',
  'BlobDownload',
  'BlobSource',
  'Credential',
  'CredentialProvider',
  'CredentialStoreOptions',
  'DistributionError',
  'DownloadIntoFileOptions',
  'DownloadStats',
  'FetchBlobOptions',
  'HelperAction',
  'HelperResult',
  'HelperRunner',
  'MakeDirectoryOptions',
  'ManifestResponse',
  'PageOptions',
  'PushBlobOptions',
  'PushBlobResult',
  'RangedDownloadOptions',
  'RangedDownloadResult',
  'ReferrersRequestOptions',
  'RegistryOptions',
  'ResolveRule',
  'RetryPolicy',
  'StreamingUploadOptions',
];

pinPublicSurface({
  name: '@ferry/registry',
  indexUrl: new URL('./index.ts', import.meta.url),
  load: () => import('./index.js'),
  values: VALUES,
  types: TYPES,
});
