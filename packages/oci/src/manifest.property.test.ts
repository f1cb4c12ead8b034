import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeDigest } from './digest.js';
import { FerryError } from './errors.js';
import { parseManifest } from './manifest.js';

// Whatever a registry or a file hands over, parseManifest answers with a manifest or a
// FerryError: never a TypeError from a field it trusted too early.
function outcome(input: Uint8Array | string): 'ok' | 'refused' {
  try {
    parseManifest(input);
    return 'ok';
  } catch (error) {
    if (error instanceof FerryError) return 'refused';
    throw error;
  }
}

const descriptorish = fc.record(
  {
    mediaType: fc.oneof(fc.constant('application/octet-stream'), fc.string(), fc.integer()),
    digest: fc.oneof(fc.constant(computeDigest('x')), fc.string(), fc.constant(null)),
    size: fc.oneof(fc.nat(), fc.double(), fc.string(), fc.constant(-1)),
    annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.anything()),
    platform: fc.anything(),
    data: fc.oneof(fc.base64String(), fc.anything()),
  },
  { requiredKeys: [] },
);

describe('parseManifest on arbitrary input', () => {
  it('never throws anything but a FerryError on random bytes and strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 512 }), fc.string(), fc.json()), (input) => {
        expect(['ok', 'refused']).toContain(outcome(input));
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but a FerryError on manifest-shaped JSON', () => {
    const manifestish = fc.record(
      {
        schemaVersion: fc.oneof(fc.constant(2), fc.anything()),
        mediaType: fc.oneof(
          fc.constantFrom(
            'application/vnd.oci.image.manifest.v1+json',
            'application/vnd.oci.image.index.v1+json',
            'application/vnd.docker.distribution.manifest.v2+json',
          ),
          fc.anything(),
        ),
        config: fc.oneof(descriptorish, fc.anything()),
        layers: fc.oneof(fc.array(descriptorish, { maxLength: 3 }), fc.anything()),
        manifests: fc.oneof(fc.array(descriptorish, { maxLength: 3 }), fc.anything()),
        subject: fc.oneof(descriptorish, fc.anything()),
        annotations: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(manifestish, (document) => {
        expect(['ok', 'refused']).toContain(outcome(JSON.stringify(document) ?? 'null'));
      }),
      { numRuns: 3000 },
    );
  });
});
