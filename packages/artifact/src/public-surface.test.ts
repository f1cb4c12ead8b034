// @ferry/artifact's public face, pinned: adding or removing an export of index.ts fails here, so that
// either is a decision made in review (and a changeset), never a side effect of `export *`.
// Keep each list one name per line; order does not matter to the comparison.
import { readdir, readFile } from 'node:fs/promises';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const VALUES = [
  'canFetchBytes',
  'pushPacked',
  'pushHasher',
  'pushFiles',
  'MemoryTarget',
  'canStatBlob',
  'canPushWhileHashing',
  'canPushTagged',
  'canMount',
  'canDownloadToFile',
  'canFetchReference',
  'canDelete',
  'canCopyTo',
  'ArtifactErrorCode',
  'applyDirectoryMetadata',
  'archiveLayout',
  'assertNoSymlinkEscape',
  'BlobCache',
  'buildIndex',
  'cachedTarget',
  'cacheParallelDownloads',
  'copy',
  'copyGraph',
  'defaultCacheDir',
  'DigestCache',
  'digestFile',
  'durable',
  'editIndex',
  'encodeManifest',
  'ERR_CACHE_UNSAFE',
  'ERR_EXPANSION_TOO_LARGE',
  'extractLayoutArchive',
  'extractTarGzip',
  'fetchManifest',
  'fetchManifestByReference',
  'globMatcher',
  'goJson',
  'LARGE_TRANSFER_MIN_SIZE',
  'limit',
  'MediaTypeUnknownArtifact',
  'MediaTypeUnknownConfig',
  'OciLayoutTarget',
  'pack',
  'readAll',
  'RegistryTarget',
  'resolveIndexSource',
  'resolveTitlePath',
  'selectFromIndex',
  'selectLayers',
  'unpack',
  'UNSAFE_ARCHIVE',
  'UNSAFE_PATH',
];

const TYPES = [
  'BytesFetcher',
  'PushPackedOptions',
  'PushPackedEvent',
  'PushHasherOptions',
  'PushHasher',
  'PushFilesOptions',
  'PushDestination',
  'CopyDestination',
  'WritableTarget',
  'TagLister',
  'TaggedPusher',
  'ReferrerLister',
  'ReferenceFetcher',
  'ReadOnlyTarget',
  'ReadOnlyStorage',
  'ReadOnlyGraphTarget',
  'Named',
  'Mounter',
  'FileDownloader',
  'FileCopier',
  'ExistenceChecker',
  'Deleter',
  'BlobStater',
  'BlobCacheOptions',
  'BuiltIndex',
  'CacheStats',
  'Content',
  'CopyEvent',
  'CopyOptions',
  'DirectoryMetadata',
  'FetchedManifest',
  'Fetcher',
  'FetchOptions',
  'FileDownload',
  'FileHasher',
  'FileInput',
  'IndexEdit',
  'IndexFields',
  'IndexSource',
  'OciLayoutOpenOptions',
  'OperationOptions',
  'PackedArtifact',
  'PackedBlob',
  'PackOptions',
  'Pusher',
  'PushOptions',
  'ReferrersOptions',
  'RegistryTargetOptions',
  'Resolver',
  'Storage',
  'StreamingOutcome',
  'StreamingPusher',
  'Tagger',
  'Target',
  'UnpackedFile',
  'UnpackOptions',
];

/** index.ts's `export { … } from` lists, read with the TypeScript parser: values and type-only names. */
async function declaredExports(): Promise<{ values: string[]; types: string[] }> {
  const text = await readFile(new URL('./index.ts', import.meta.url), 'utf8');
  const source = ts.createSourceFile('index.ts', text, ts.ScriptTarget.Latest);
  const values: string[] = [];
  const types: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement)) {
      // A declaration in index.ts itself (`export interface …`) would slip past the lists below.
      const modifiers = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) : undefined;
      if (modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
        throw new Error(`index.ts declares \`${statement.getText(source)}\`; re-export it instead`);
      }
      continue;
    }
    const clause = statement.exportClause;
    if (!clause || !ts.isNamedExports(clause)) {
      throw new Error(`index.ts: \`${statement.getText(source)}\` exports unnamed; list the names`);
    }
    for (const element of clause.elements) {
      (statement.isTypeOnly || element.isTypeOnly ? types : values).push(element.name.text);
    }
  }
  return { values: values.sort(), types: types.sort() };
}

/** Names the READMEs' examples (this repository's and every package's) import from @ferry/artifact. */
async function namesInReadmeExamples(): Promise<string[]> {
  const packages = new URL('../../', import.meta.url);
  const readmes = [new URL('../README.md', packages)];
  for (const dir of await readdir(packages)) readmes.push(new URL(`${dir}/README.md`, packages));
  const names = new Set<string>();
  for (const readme of readmes) {
    const text = await readFile(readme, 'utf8').catch(() => '');
    const imports = new RegExp(
      String.raw`import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'@ferry/artifact'`,
      'g',
    );
    for (const [, list] of text.matchAll(imports)) {
      for (const item of list!.split(',')) {
        const name = item
          .replace(/^\s*type\s+/, '')
          .split(/\s+as\s+/)[0]!
          .trim();
        if (name) names.add(name);
      }
    }
  }
  return [...names].sort();
}

describe('@ferry/artifact public surface', () => {
  it('exports exactly these runtime names', async () => {
    const entry = (await import('./index.js')) as Record<string, unknown>;
    expect(Object.keys(entry).sort()).toEqual([...VALUES].sort());
    expect((await declaredExports()).values).toEqual([...VALUES].sort());
  });

  it('exports exactly these type-only names', async () => {
    expect((await declaredExports()).types).toEqual([...TYPES].sort());
  });

  it("exports every name the READMEs' examples import from it", async () => {
    const used = await namesInReadmeExamples();
    expect(
      used.length,
      'no README example imports this package: is the pattern still right?',
    ).toBeGreaterThan(0);
    expect(used.filter((name) => !VALUES.includes(name) && !TYPES.includes(name))).toEqual([]);
  });
});
