/** Help text that several commands share word for word. */
export const DIGEST_CACHE =
  'Remember digests of large files by inode, size and times, so an unchanged file is not hashed again (--no-digest-cache: always hash; also FERRY_DIGEST_CACHE=0)';
export const CACHE_DIR = 'Download cache (default $FERRY_CACHE, else $XDG_CACHE_HOME/ferry)';
export const RANGE_CACHE_DIR =
  'Download cache for blobs fetched in parallel ranges (default $FERRY_CACHE, else $XDG_CACHE_HOME/ferry)';
export const PULL_PLATFORM = 'From a multi-platform index, pull os/arch[/variant]';
export const TO_FILE = 'Write to this file instead of stdout';
export const INDEX_OUTPUT = 'Write the index to this file (- for stdout) instead of pushing it';
export const INDEX_PRETTY = 'Indent the index written with --output -';
