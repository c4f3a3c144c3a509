/**
 * Body of one scan pool worker thread (workers/ serveJobs): scans one file per job
 * (scan-file.ts) and answers with the result's arrays transferred.
 */
import { serveJobs } from "../workers/serve-jobs.js";
import { scanFile } from "./scan-file.js";
import type { ScanRequest } from "./scan-protocol.js";

serveJobs((req: ScanRequest) => {
  const res = scanFile(req);
  const { fileHash, hashes, lengths, zero, dense, sketches } = res;
  const transfer = [fileHash, hashes, lengths, zero, dense, sketches].map(
    (a) => a.buffer as ArrayBuffer,
  );
  return { res, transfer };
});
