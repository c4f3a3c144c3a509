/**
 * What tests give a command's `run(args, io)`: an io that keeps what the command writes
 * (the one fake CliIO of the tests), a kept stream for code that takes a bare stream, the
 * whole CLI run in-process, and a check that a promise fails with a given error code.
 */
import { Writable } from "node:stream";
import * as assert from "uvu/assert";
import type { CliIO } from "../../src/cli/cli-io.js";
import { runCli } from "../../src/cli/main.js";
import { type ErrorCode, isCode } from "../../src/errors.js";
import { runDirForTests } from "./mount.js";

/** How a captured io looks to the command. */
export interface CaptureOptions {
  /** the command's environment; default process.env */
  env?: NodeJS.ProcessEnv;
  /**
   * add SUPERCHUNK_RUN_DIR, this process's private run directory (mount records, logs), to
   * `env`; default false. Commands that mount or unmount need it.
   */
  runDir?: boolean;
  /** whether the command believes stderr is a terminal (progress bars); default false */
  isTTY?: boolean;
}

/** A CliIO whose output is kept. */
export interface CapturedIO {
  readonly io: CliIO;
  /** what was written to stdout */
  out(): string;
  /** what was written to stderr */
  err(): string;
  /** stdout and stderr together, in the order written */
  text(): string;
}

/** A writable stream that keeps what is written to it. */
export function captureStream(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write: (c, _e, cb) => {
      chunks.push(c.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join("") };
}

/** A CliIO (not a TTY unless asked) whose stdout and stderr are kept. */
export function captureIO(opts: CaptureOptions = {}): CapturedIO {
  const all: string[] = [];
  const keep = () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write: (c, _e, cb) => {
        chunks.push(c.toString());
        all.push(c.toString());
        cb();
      },
    });
    return { stream, text: () => chunks.join("") };
  };
  const stdout = keep();
  const stderr = keep();
  const base = opts.env ?? process.env;
  const env = opts.runDir ? { ...base, SUPERCHUNK_RUN_DIR: runDirForTests() } : base;
  return {
    io: { stdout: stdout.stream, stderr: stderr.stream, isTTY: opts.isTTY ?? false, env },
    out: stdout.text,
    err: stderr.text,
    text: () => all.join(""),
  };
}

/**
 * Runs one command line through the CLI's main in-process, with an empty environment;
 * answers the exit status and both outputs.
 */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = captureIO({ env: {} });
  const code = await runCli(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

/** The error `p` rejects with, after checking its code; fails the test when `p` resolves. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(isCode(err, code), `expected ${code}, got ${String(err)}`);
    return err as Error;
  }
  assert.unreachable(`expected ${code}`);
  throw new Error("unreachable");
}
