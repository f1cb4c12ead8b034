/** Every top-level command, in the order `ferry --help` lists them. */
import { attachCommand } from './attach.js';
import { backupCommand } from './backup.js';
import { blobCommand } from './blob.js';
import { bottleCommand } from './bottle.js';
import { cacheCommand } from './cache.js';
import { copyCommand } from './copy.js';
import type { Command } from './define.js';
import { discoverCommand } from './discover.js';
import { loginCommand } from './login.js';
import { logoutCommand } from './logout.js';
import { manifestCommand } from './manifest.js';
import { modelCommand } from './model.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { repoCommand } from './repo.js';
import { resolveCommand } from './resolve.js';
import { restoreCommand } from './restore.js';
import { tagCommand } from './tag.js';
import { versionCommand } from './version.js';

export const COMMANDS: readonly Command[] = [
  pushCommand,
  pullCommand,
  attachCommand,
  discoverCommand,
  copyCommand,
  tagCommand,
  resolveCommand,
  loginCommand,
  logoutCommand,
  manifestCommand,
  blobCommand,
  repoCommand,
  cacheCommand,
  backupCommand,
  restoreCommand,
  bottleCommand,
  modelCommand,
  versionCommand,
];
