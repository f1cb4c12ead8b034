/**
 * The stable error codes @ferry/model adds. It reuses, never repeats, the codes of the packages
 * below it: @ferry/oci's shared ones (ERR_FILE_NOT_FOUND, ERR_FILE_EXISTS, ERR_INVALID_OPTIONS) and
 * @ferry/artifact's (ERR_DUPLICATE_TITLE, ERR_CONTENT_TOO_LARGE, ERR_NOT_A_MANIFEST,
 * ERR_UNSUPPORTED_FILE, ERR_UNSAFE_ARCHIVE).
 */
export const ModelErrorCode = {
  /** The model path is a file, not a directory. */
  NotADirectory: 'ERR_NOT_A_DIRECTORY',
  /** A symbolic link in the model directory points back above itself. */
  SymlinkLoop: 'ERR_SYMLINK_LOOP',
  /** A symbolic link in the model directory points at nothing. */
  DanglingSymlink: 'ERR_DANGLING_SYMLINK',
  /** No rule says what kind of file this is (weights, config, doc, code, dataset). */
  Unclassified: 'ERR_MODEL_UNCLASSIFIED',
  /** A safetensors or GGUF header that does not parse. */
  InvalidHeader: 'ERR_MODEL_HEADER',
  /** A model directory with no files to push. */
  Empty: 'ERR_MODEL_EMPTY',
  /** A layer compressed in a way this Node.js cannot read. */
  UnsupportedLayer: 'ERR_UNSUPPORTED_LAYER',
} as const;

export type ModelErrorCode = (typeof ModelErrorCode)[keyof typeof ModelErrorCode];
