#!/usr/bin/env node
/**
 * cli/: the only place that touches argv, stdout, exit codes and progress bars.
 * main dispatches to one command per file and maps errors to exit statuses, by code, with
 * exit-status.ts's table (the same for every command). Every error is one line with its
 * code, then a `hint:` line when the next step is known (hints.ts), an unknown command with
 * the nearest one; a stack trace only with `--debug` (before the command name) or
 * SUPERCHUNK_DEBUG=1. Run as a process (`runProcess`), it never exits 0 unless the command
 * finished: a command whose promise is still pending when nothing is left to run (the event
 * loop emptied) ends with status 1 and `command ended without finishing [E_INTERNAL]`.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EngineError } from "../errors.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";
import { commands } from "./commands.js";
import { exitStatusOf } from "./exit-status.js";
import { hintFor } from "./hints.js";
import { wasInterrupted } from "./interrupt.js";
import { didYouMean } from "./suggest.js";

const VERSION = "0.1.0";

function help(list: readonly Command[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  const rows = list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: superchunk [--debug] <command> [options]

Super-chunk packing archive engine: deduplicated, similarity-grouped,
compressed stores you can mount through FUSE.

Commands:
${rows.join("\n")}

Run 'superchunk <command> --help' for a command's options.
--debug (before the command) adds the stack trace to an error.
`;
}

/** Runs one command line; never throws, never exits. */
export async function runCli(
  argv: string[],
  io: CliIO,
  list: readonly Command[] = commands,
): Promise<number> {
  const [first, ...more] = argv;
  if (first === "--debug")
    return runCli(more, { ...io, env: { ...io.env, SUPERCHUNK_DEBUG: "1" } }, list);
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(help(list));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-V") {
    io.stdout.write(`superchunk ${VERSION}\n`);
    return EXIT.ok;
  }
  const cmd = list.find((c) => c.name === name);
  if (!cmd) {
    const hint = didYouMean(
      name,
      list.map((c) => c.name),
    );
    io.stderr.write(
      `superchunk: unknown command '${name}'${hint} [E_USAGE]\nRun 'superchunk --help' for the list.\n`,
    );
    return exitStatusOf("E_USAGE");
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    return reportError(err, cmd, io);
  }
}

function reportError(err: unknown, cmd: Command, io: CliIO): number {
  if (err instanceof EngineError) {
    io.stderr.write(`superchunk ${cmd.name}: ${oneLine(err.message)} [${err.code}]\n`);
    if (err.code === "E_USAGE") io.stderr.write(`Run 'superchunk ${cmd.name} --help' for usage.\n`);
    const hint = hintFor(err, cmd.name);
    if (hint !== undefined) io.stderr.write(`hint: ${hint}\n`);
    debugStack(err, io);
    return exitStatusOf(err.code);
  }
  io.stderr.write(`superchunk ${cmd.name}: internal error: ${describe(err)} [E_INTERNAL]\n`);
  debugStack(err, io);
  return exitStatusOf("E_INTERNAL");
}

/** The message of `err` on one line. */
function describe(err: unknown): string {
  return oneLine(err instanceof Error ? err.message : String(err));
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ");
}

/** The stack of `err` (and of its causes), only when debugging. */
function debugStack(err: unknown, io: CliIO): void {
  if (!io.env.SUPERCHUNK_DEBUG) return;
  let e: unknown = err;
  for (let depth = 0; e !== undefined && depth < 8; depth++) {
    io.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    e = e instanceof Error ? e.cause : undefined;
    if (e !== undefined) io.stderr.write("caused by: ");
  }
}

/** The command named by `argv` (after a leading --debug), for messages. */
function commandName(argv: readonly string[]): string {
  const name = argv[0] === "--debug" ? argv[1] : argv[0];
  return name === undefined || name.startsWith("-") ? "" : ` ${name}`;
}

/**
 * Runs one command line as this process: sets the exit status when the command settles.
 * If the event loop empties while the command is still pending (nothing left that could
 * settle it), or the process exits before it settles, the status is 1 with one E_INTERNAL
 * line, never 0. An error nobody handled (a rejected promise, an exception in a callback)
 * is one E_INTERNAL line, status 1; after the command settled it is shown only when
 * debugging and the status stays the command's.
 */
export function runProcess(argv: string[], io: CliIO, list: readonly Command[] = commands): void {
  const label = `superchunk${commandName(argv)}`;
  const debug = argv[0] === "--debug" || Boolean(io.env.SUPERCHUNK_DEBUG);
  const dbgIO = { ...io, env: debug ? { ...io.env, SUPERCHUNK_DEBUG: "1" } : io.env };
  let settled = false;
  const unfinished = () => {
    if (settled || wasInterrupted()) return; // a signal ended it, with its own line and status
    settled = true;
    io.stderr.write(`${label}: command ended without finishing [E_INTERNAL]\n`);
    if (debug) io.stderr.write(`active: ${process.getActiveResourcesInfo().join(", ")}\n`);
    process.exitCode = EXIT.failure;
  };
  const stray = (err: unknown) => {
    if (settled) {
      if (debug) io.stderr.write(`${label}: after the command ended: ${describe(err)}\n`);
      debugStack(err, dbgIO);
      return;
    }
    settled = true;
    io.stderr.write(`${label}: internal error: ${describe(err)} [E_INTERNAL]\n`);
    debugStack(err, dbgIO);
    process.exit(EXIT.failure);
  };
  process.on("beforeExit", unfinished);
  process.on("exit", unfinished);
  process.on("unhandledRejection", stray);
  process.on("uncaughtException", stray);
  runCli(argv, io, list).then((code) => {
    if (settled) return;
    settled = true;
    process.exitCode = code;
  }, stray);
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
  runProcess(process.argv.slice(2), io);
}
