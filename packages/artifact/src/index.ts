// Targets, pack/unpack and copy arrive with the CLI artifacts issue; the package exists now so
// that the dependency chain oci ← registry ← artifact ← homebrew ← cli is fixed from the start.
export { FerryError } from '@ferry/oci';
