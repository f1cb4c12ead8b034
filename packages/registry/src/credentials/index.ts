// Docker-compatible credentials: config.json `auths`, `credsStore` and `credHelpers`.
export type { Credential } from './docker-config.js';
export {
  canonicalKey,
  CredentialErrorCode,
  DOCKER_HUB_KEY,
  normaliseHost,
  resolveConfigPath,
} from './docker-config.js';
export type { HelperAction, HelperResult, HelperRunner } from './helper.js';
export type { HelperRunnerOptions } from './helper.js';
export { DEFAULT_HELPER_TIMEOUT_MS, spawnHelperRunner } from './helper.js';
export type { CredentialStoreOptions } from './store.js';
export { CredentialStore, credentialProvider } from './store.js';
