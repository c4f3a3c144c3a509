/**
 * Ctrl-C (SIGINT) and SIGTERM during a command that writes (pack, repack, seal, extract):
 * the command's own cleanup runs, one line says what was left, and the process exits 130
 * or 143 (128 + the signal's number); the worker threads end with the process. Also the
 * note, at the start of the next run, naming what an earlier run that was killed outright
 * (kill -9, a crash) left beside the destination, with the command that removes it.
 */
import { leftoverPartials, removeOwnPartials } from "../store/partials.js";
import type { CliIO } from "./cli-io.js";

/** Exit statuses after a signal: 128 + its number. */
export const EXIT_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;

/** What an interrupted command does before it exits: cleans up, answers the line to print. */
export type InterruptCleanup = () => string;

/** The line of a command that made nothing (what it made has been removed). */
export const NOTHING_WRITTEN = "interrupted, nothing written";

let interrupted = false;

/** True once a signal has interrupted a command of this process (its exit is the signal's). */
export function wasInterrupted(): boolean {
  return interrupted;
}

/**
 * Runs `run` with SIGINT and SIGTERM handled: on either, `cleanup` runs synchronously, its
 * line is printed as `superchunk: <line>`, and the process exits with EXIT_SIGNAL. The
 * handlers are removed when `run` settles.
 */
export async function interruptible<T>(
  io: CliIO,
  cleanup: InterruptCleanup,
  run: () => Promise<T>,
): Promise<T> {
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = true;
    let line: string;
    try {
      line = cleanup();
    } catch (err) {
      line = `interrupted; cleaning up failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    // a progress bar may be on the line: start afresh
    io.stderr.write(`${io.isTTY ? "\r\x1b[K" : ""}superchunk: ${line}\n`);
    process.exit(sig === "SIGINT" ? EXIT_SIGNAL.SIGINT : EXIT_SIGNAL.SIGTERM);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await run();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * The cleanup of a command that builds `dest` under temporary names: removes them. An S3
 * destination is committed only by its pointer, switched last: nothing is removed there.
 */
export function removePartialsOf(dest: string): InterruptCleanup {
  return () => {
    if (dest.startsWith("s3://")) return "interrupted before the store's pointer was switched";
    removeOwnPartials(dest);
    return NOTHING_WRITTEN;
  };
}

/** `s` quoted for a POSIX shell. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Writes one note per temporary entry beside `dest` left by a run whose process is gone,
 * with the command that removes it. Never removes anything itself.
 */
export function noteLeftovers(dest: string, io: CliIO): void {
  if (dest.startsWith("s3://")) return;
  for (const p of leftoverPartials(dest)) {
    const what = !p.isDirectory
      ? "a partial archive"
      : /\.stage-\d+-[0-9a-f]+$/.test(p.path)
        ? "a staging directory"
        : "a partial store";
    io.stderr.write(
      `superchunk: note: ${what} from an interrupted run is left at ${p.path}; remove it with: rm -rf ${shellQuote(p.path)}\n`,
    );
  }
}
