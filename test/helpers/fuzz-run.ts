/**
 * Runs CLI command lines for the fuzz in a worker thread (fuzz-worker.ts), one at a time,
 * each with a deadline: in-process speed, yet a command that hangs or spins can be stopped
 * (the thread is terminated and a fresh one started), and an uncaught exception or a
 * thread that dies is seen as the crash it would be in a process.
 */
import { Worker } from "node:worker_threads";
import type { FuzzWorkerAnswer, FuzzWorkerRequest } from "./fuzz-worker.js";

/** How one command line ended. */
export type RunResult =
  | { readonly kind: "exit"; readonly code: number; readonly out: string; readonly err: string }
  /** no answer before the deadline: a hang, a spin, or a promise that never settled */
  | { readonly kind: "timeout"; readonly ms: number }
  /** the thread died: an uncaught exception or rejection, or an exit */
  | { readonly kind: "crash"; readonly error: string };

const WORKER_URL = new URL("./fuzz-worker.js", import.meta.url);
/** How long close() waits for a terminated thread to stop. */
const TERMINATE_WAIT_MS = 2000;

/** One worker thread running command lines in turn, replaced after a timeout or a crash. */
export class CommandRunner {
  #worker: Worker | undefined;
  #next = 1;

  /** Runs `argv` (e.g. ["extract", store, dest]); never rejects. */
  async run(argv: string[], timeoutMs: number): Promise<RunResult> {
    const w = this.#worker ?? this.#start();
    const id = this.#next++;
    let timer: NodeJS.Timeout | undefined;
    let onMessage: ((a: FuzzWorkerAnswer) => void) | undefined;
    let onError: ((e: Error) => void) | undefined;
    let onExit: ((code: number) => void) | undefined;
    const result = await new Promise<RunResult>((resolve) => {
      onMessage = (a) => {
        if (a.id === id) resolve({ kind: "exit", code: a.code, out: a.out, err: a.err });
      };
      onError = (e) => resolve({ kind: "crash", error: `uncaught ${e.stack ?? String(e)}` });
      onExit = (code) => resolve({ kind: "crash", error: `thread exited (${code})` });
      timer = setTimeout(() => resolve({ kind: "timeout", ms: timeoutMs }), timeoutMs);
      w.on("message", onMessage);
      w.on("error", onError);
      w.on("exit", onExit);
      const req: FuzzWorkerRequest = { id, argv };
      w.postMessage(req);
    });
    clearTimeout(timer);
    w.off("message", onMessage!);
    w.off("error", onError!);
    w.off("exit", onExit!);
    if (result.kind !== "exit") await this.close();
    return result;
  }

  /**
   * Ends the thread (a new one starts with the next command). A thread blocked in a system
   * call cannot be stopped at once: it is waited for a moment, then left behind.
   */
  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    if (!w) return;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((r) => {
      timer = setTimeout(r, TERMINATE_WAIT_MS);
    });
    await Promise.race([w.terminate(), gaveUp]);
    clearTimeout(timer);
  }

  #start(): Worker {
    const w = new Worker(WORKER_URL);
    w.unref(); // a command's deadline keeps the process alive; an idle or stray thread does not
    w.on("error", () => {}); // reported through run(); keep an idle thread's death quiet
    w.on("exit", () => {
      if (this.#worker === w) this.#worker = undefined;
    });
    this.#worker = w;
    return w;
  }
}
