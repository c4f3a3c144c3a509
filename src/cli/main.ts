#!/usr/bin/env node
/**
 * cli/: the only place that touches argv, stdout, exit codes and progress bars.
 * main dispatches to one command per file and maps errors to exit statuses.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EngineError } from "../errors.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";
import { commands } from "./commands.js";

const VERSION = "0.1.0";

function help(list: readonly Command[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  const rows = list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: superchunk <command> [options]

Super-chunk packing archive engine: deduplicated, similarity-grouped,
compressed stores you can mount through FUSE.

Commands:
${rows.join("\n")}

Run 'superchunk <command> --help' for a command's options.
`;
}

/** Runs one command line; never throws, never exits. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(help(commands));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-V") {
    io.stdout.write(`superchunk ${VERSION}\n`);
    return EXIT.ok;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    io.stderr.write(
      `superchunk: unknown command '${name}' [E_USAGE]\nRun 'superchunk --help' for the list.\n`,
    );
    return EXIT.usage;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    return reportError(err, cmd, io);
  }
}

function reportError(err: unknown, cmd: Command, io: CliIO): number {
  if (err instanceof EngineError) {
    io.stderr.write(`superchunk ${cmd.name}: ${err.message} [${err.code}]\n`);
    if (err.code === "E_USAGE") io.stderr.write(`Run 'superchunk ${cmd.name} --help' for usage.\n`);
    return err.family === "usage" ? EXIT.usage : EXIT.failure;
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.stderr.write(`superchunk ${cmd.name}: internal error [E_INTERNAL]\n`);
  if (io.env.SUPERCHUNK_DEBUG) io.stderr.write(`${detail}\n`);
  else io.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT.failure;
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const io: CliIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
  };
  runCli(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
