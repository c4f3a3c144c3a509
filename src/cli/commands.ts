/** The list of commands main dispatches to. */
import type { Command } from "./cli-io.js";
import { extractCommand } from "./cmd-extract.js";
import { fsckCommand } from "./cmd-fsck.js";
import { initCommand } from "./cmd-init.js";
import { lsCommand } from "./cmd-ls.js";
import { mountCommand } from "./cmd-mount.js";
import { packCommand } from "./cmd-pack.js";
import { repackCommand } from "./cmd-repack.js";
import { sealCommand } from "./cmd-seal.js";
import { statsCommand } from "./cmd-stats.js";
import { umountCommand } from "./cmd-umount.js";

export const commands: readonly Command[] = [
  packCommand,
  initCommand,
  extractCommand,
  lsCommand,
  mountCommand,
  umountCommand,
  statsCommand,
  fsckCommand,
  repackCommand,
  sealCommand,
];
