export interface PublicSurface {
  /** The package's name, as README examples import it: `@ferry/oci`. */
  name: string;
  /** The package's src/index.ts. */
  indexUrl: URL;
  /** Loads the entry (`() => import('./index.js')`). */
  load: () => Promise<object>;
  /** Runtime names the entry exports, one per line; order does not matter. */
  values: readonly string[];
  /** Type-only names index.ts exports. */
  types: readonly string[];
}

/** Defines the vitest suite that pins a package's public face. */
export function pinPublicSurface(surface: PublicSurface): void;
