/**
 * Body of the compaction planner's worker thread (workers/ serveJobs): runs the similarity
 * planner (similarity/plan.ts) off the thread that serves a mount, which would otherwise
 * stall for the whole plan (~1 s for the corpus's 6,000 sub-blocks). Request and answer:
 * PlanJob and the groups, as planSuperChunks gives them.
 */
import { type PlanItem, planSuperChunks } from "../similarity/plan.js";
import { serveJobs } from "../workers/serve-jobs.js";

/** What the planner's worker is asked. */
export interface PlanJob {
  readonly items: readonly PlanItem[];
  readonly targetBytes: number;
}

serveJobs((job: PlanJob) => {
  const groups = planSuperChunks(job.items, { targetBytes: job.targetBytes, order: "similarity" });
  return { res: groups, transfer: groups.map((g) => g.buffer as ArrayBuffer) };
});
