/**
 * The bottle's tab (`sh.brew.tab`, the INSTALL_RECEIPT written at build time) and the images of its
 * runtime dependencies.
 *
 * `Tab.formula_to_dep_hash` (`Library/Homebrew/tab.rb`) writes each runtime dependency as
 * `full_name`, `version`, `revision`, `bottle_rebuild`, `pkg_version`, `declared_directly`
 * (and `compatibility_version`), dropping nil values; tabs from before 2023 carry only
 * `full_name`, `version` and `declared_directly` (the sqlite 3.40.1 fixture is one).
 */
import { formatPkgVersion, imageTag } from './versions.js';
import { imageName, parseFormulaFullName } from './names.js';

export interface RuntimeDependency {
  fullName: string;
  version: string;
  revision?: number;
  pkgVersion?: string;
  bottleRebuild?: number;
  declaredDirectly?: boolean;
}

export interface BottleTab {
  homebrewVersion?: string;
  /** `x86_64` or `arm64`. */
  arch?: string;
  compiler?: string;
  sourceModifiedTime?: number;
  changedFiles?: string[];
  builtOn?: Record<string, unknown>;
  runtimeDependencies?: RuntimeDependency[];
  /** The whole tab as parsed, every key kept, in its original order. */
  raw: Record<string, unknown>;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;
const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;

function dependency(value: unknown): RuntimeDependency | undefined {
  const node = record(value);
  const fullName = text(node?.full_name);
  const version = text(node?.version);
  if (!node || !fullName || !version) return undefined;
  const revision = count(node.revision);
  const pkgVersion = text(node.pkg_version);
  const bottleRebuild = count(node.bottle_rebuild);
  const declaredDirectly = node.declared_directly;
  return {
    fullName,
    version,
    ...(revision !== undefined && { revision }),
    ...(pkgVersion !== undefined && { pkgVersion }),
    ...(bottleRebuild !== undefined && { bottleRebuild }),
    ...(typeof declaredDirectly === 'boolean' && { declaredDirectly }),
  };
}

/**
 * Parses a tab from its JSON text or an already-parsed object. Tolerant: unknown keys are kept in
 * `raw`, fields of the wrong type are left out, dependencies without `full_name` and `version` are
 * skipped. Returns `undefined` only when the input is not a JSON object.
 */
export function parseTab(input: string | Record<string, unknown>): BottleTab | undefined {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      return undefined;
    }
  }
  const raw = record(value);
  if (!raw) return undefined;
  const changedFiles = Array.isArray(raw.changed_files)
    ? raw.changed_files.filter((file): file is string => typeof file === 'string')
    : undefined;
  const deps = Array.isArray(raw.runtime_dependencies)
    ? raw.runtime_dependencies.flatMap((dep) => dependency(dep) ?? [])
    : undefined;
  const fields = {
    homebrewVersion: text(raw.homebrew_version),
    arch: text(raw.arch),
    compiler: text(raw.compiler),
    sourceModifiedTime: count(raw.source_modified_time),
    changedFiles,
    builtOn: record(raw.built_on),
    runtimeDependencies: deps,
  };
  const tab: BottleTab = { raw };
  for (const [key, field] of Object.entries(fields)) {
    if (field !== undefined) Object.assign(tab, { [key]: field });
  }
  return tab;
}

export interface DependencyImage {
  /** `homebrew/core`, or `user/tap` for a dependency from `user/homebrew-tap`. */
  namespace: string;
  /** Image name within the namespace: `openssl/3`. */
  imageName: string;
  /** Image tag: pkg_version, plus `-<bottle_rebuild>` when > 0. */
  tag: string;
  /** The dependency's full name as the tab writes it. */
  fullName: string;
}

/**
 * A dependency's pkg_version: the tab's own `pkg_version`, else `version` with `revision`
 * (`PkgVersion#to_s`), else — old tabs — just `version`.
 */
export function dependencyPkgVersion(dep: RuntimeDependency): string {
  if (dep.pkgVersion !== undefined) return dep.pkgVersion;
  return formatPkgVersion({ version: dep.version, revision: dep.revision ?? 0 });
}

/** Where a runtime dependency's bottle lives: `{ homebrew/core, openssl/3, 3.3.1 }`. */
export function dependencyImage(dep: RuntimeDependency): DependencyImage {
  const { namespace, name } = parseFormulaFullName(dep.fullName);
  return {
    namespace,
    imageName: imageName(name),
    tag: imageTag(dependencyPkgVersion(dep), dep.bottleRebuild ?? 0),
    fullName: dep.fullName,
  };
}

/** The images of every runtime dependency in a tab (the tab lists the full closure). */
export function dependencyImages(tab: BottleTab): DependencyImage[] {
  return (tab.runtimeDependencies ?? []).map(dependencyImage);
}
