/**
 * The similarity plan of a compaction, computed on a worker thread of its own at low
 * priority (plan-worker.ts), so a mount keeps answering while it runs.
 */
import type { PlanItem } from "../similarity/plan.js";
import { WorkerPool } from "../workers/worker-pool.js";
import type { PlanJob } from "./plan-worker.js";

const WORKER_URL = new URL("./plan-worker.js", import.meta.url);

/** planSuperChunks(items, { targetBytes, order: "similarity" }) on a worker at `niceness`. */
export async function planOffThread(
  items: readonly PlanItem[],
  targetBytes: number,
  niceness: number,
): Promise<Uint32Array[]> {
  const pool = new WorkerPool<PlanJob, Uint32Array[]>({
    script: WORKER_URL,
    threads: 1,
    name: "plan",
    niceness,
  });
  try {
    return await pool.run({ items, targetBytes });
  } finally {
    await pool.close();
  }
}
