/**
 * The body of the worker thread that runs CLI command lines for the mutation fuzz: each
 * message `{ id, argv }` runs the CLI's main in-process with a captured io and an empty
 * environment, and answers `{ id, code, out, err }` once the command has settled and a
 * short quiet spell has passed (so a late failure of its cleanup is charged to it). An
 * uncaught exception ends the thread, as it would end a process; the parent (fuzz-run.ts)
 * sees that, and terminates the thread when a command does not settle in time.
 */
import { parentPort } from "node:worker_threads";
import { runCli } from "../../src/cli/main.js";
import { captureIO } from "./cli-capture.js";

/** What the parent sends. */
export interface FuzzWorkerRequest {
  readonly id: number;
  readonly argv: string[];
}

/** What the worker answers once the command has settled. */
export interface FuzzWorkerAnswer {
  readonly id: number;
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** How long a settled command's leftovers get to fail before the answer goes out. */
const QUIET_MS = 30;

parentPort?.on("message", async (req: FuzzWorkerRequest) => {
  const c = captureIO({ env: {} });
  const code = await runCli(req.argv, c.io);
  await new Promise((r) => setTimeout(r, QUIET_MS));
  const answer: FuzzWorkerAnswer = { id: req.id, code, out: c.out(), err: c.err() };
  parentPort?.postMessage(answer);
});
