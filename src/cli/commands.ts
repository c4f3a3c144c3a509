/** The list of commands main dispatches to. */
import type { Command } from "./cli-io.js";
import { extractCommand } from "./cmd-extract.js";
import { packCommand } from "./cmd-pack.js";

export const commands: readonly Command[] = [packCommand, extractCommand];
