/**
 * `pull --include-subject` (ORAS 1.3, preview): after the artifact, the files of its subject, and
 * of the subject's subject, into the same directory. A subject that is an index has no files of
 * its own and ends the walk; a cycle (which honest content cannot form) ends it too.
 */
import {
  fetchManifest,
  unpack,
  type Fetcher,
  type UnpackedFile,
  type UnpackOptions,
} from '@ferry/artifact';
import type { Descriptor, ImageManifest } from '@ferry/oci';

export async function unpackSubjects(
  manifest: ImageManifest,
  fetcher: Fetcher,
  options: UnpackOptions,
  onSubject: (subject: Descriptor) => void = () => {},
): Promise<UnpackedFile[]> {
  const files: UnpackedFile[] = [];
  const seen = new Set<string>();
  let subject = manifest.subject;
  while (subject && !seen.has(subject.digest)) {
    seen.add(subject.digest);
    const { parsed } = await fetchManifest(fetcher, subject);
    if (parsed.kind !== 'manifest') break;
    onSubject(subject);
    files.push(...(await unpack(parsed.manifest, fetcher, options)));
    subject = parsed.manifest.subject;
  }
  return files;
}
