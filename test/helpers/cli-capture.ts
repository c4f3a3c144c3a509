/**
 * What tests give a command's `run(args, io)`: an io that keeps what the command writes,
 * and a check that a promise fails with a given error code.
 */
import { Writable } from "node:stream";
import * as assert from "uvu/assert";
import type { CliIO } from "../../src/cli/cli-io.js";
import { type ErrorCode, isCode } from "../../src/errors.js";

/** A CliIO (not a TTY) whose stdout and stderr are kept; `env` defaults to process.env. */
export function captureIO(env: NodeJS.ProcessEnv = process.env): {
  io: CliIO;
  out: () => string;
  err: () => string;
} {
  let text = "";
  let errText = "";
  const keep = (add: (s: string) => void) =>
    new Writable({
      write: (c, _e, cb) => {
        add(c.toString());
        cb();
      },
    });
  const stdout = keep((s) => {
    text += s;
  });
  const stderr = keep((s) => {
    errText += s;
  });
  return { io: { stdout, stderr, isTTY: false, env }, out: () => text, err: () => errText };
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
