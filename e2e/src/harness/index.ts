export { startRegistry, RegistryStartError } from './registry.js';
export type { RegistryMode, StartRegistryOptions, TestRegistry, TestUser } from './registry.js';
export { startTokenServer, parseScope } from './token-server.js';
export type {
  AccessEntry,
  IssuedToken,
  TokenAccount,
  TokenServer,
  TokenServerOptions,
} from './token-server.js';
export { makeClientCerts, makeTlsCerts, makeTokenSigningCert } from './certs.js';
export type { ClientCerts, SigningCert, TlsCerts } from './certs.js';
export { renderRegistryConfig, writeHtpasswd } from './config.js';
export type { RegistryAuthConfig, RegistryConfigOptions } from './config.js';
export {
  dockerEngineAvailable,
  findRegistryBinary,
  installRegistryWithApt,
  resolveRegistrySource,
} from './registry-source.js';
export type { RegistrySource } from './registry-source.js';
export { launchRegistry } from './registry-process.js';
export type { RegistryProcess } from './registry-process.js';
export { freePort, isPidAlive, run } from './process.js';
export type { RunOptions, RunResult } from './process.js';
export {
  DOCKER_REGISTRY,
  OPENSSL,
  SKOPEO,
  decideToolInstall,
  ensureTool,
  ensureToolOnce,
  findOnPath,
  manualInstallCommand,
} from './tool-install.js';
export type { InstallDecision, InstallHost, ToolSpec } from './tool-install.js';
