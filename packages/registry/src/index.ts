// The distribution-spec client (auth, retries, blobs, manifests, uploads, tags, referrers,
// credentials) arrives with its own issue; until then the package only re-exports the OCI
// vocabulary it is built on, so that its dependents can already compile against it.
export { FerryError } from '@ferry/oci';
