/**
 * Body of the compaction planner's worker thread (workers/ serveJobs): runs the similarity
 * planner (similarity/plan.ts) off the thread that serves a mount, which would otherwise
 * stall for the whole plan (~1 s for the corpus's 6,000 sub-blocks). Request and answer:
 * PlanJob and the groups, as planSuperChunks gives them.
 */
import { planSuperChunks } from "../similarity/plan.js";
import { serveJobs } from "../workers/serve-jobs.js";
import type { PlanJob } from "./plan-off-thread.js";

serveJobs((job: PlanJob) => {
  const groups = planSuperChunks(job.items, { targetBytes: job.targetBytes, order: "similarity" });
  return { res: groups, transfer: groups.map((g) => g.buffer as ArrayBuffer) };
});
