// Bottle naming, tags, platform choice, tabs and bottle indexes arrive with the Homebrew issue;
// the package exists now so that the dependency chain is fixed from the start.
export { FerryError } from '@ferry/oci';
