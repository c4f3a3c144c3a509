/**
 * fsck --repair-from: restores damaged or missing sub-blocks from another copy of the data.
 * The files under the given directory are cut with the store's chunker parameters and
 * hashed; every damaged sub-block whose hash turns up there (its full hash when its
 * super-chunk's header is readable, else its 64-bit key and length) is restored by rewriting
 * its super-chunk through the crash-safe switch (repack-write.ts): the good sub-blocks come
 * from the old payload, the restored ones from the copy. A super-chunk is rewritten only when
 * every live sub-block it holds can be had; dead ones that cannot are dropped.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { chunkerParams } from "../chunker/chunker-params.js";
import { cutAll } from "../chunker/fastcdc.js";
import type { CodecPool } from "../codec/codec-pool.js";
import type { MaintainedStore } from "../location/maintained-store.js";
import { hashKey } from "../meta/hash-key.js";
import type { SnapshotSubBlock } from "../meta/store-snapshot.js";
import { readStoreSettings } from "../store/store-settings.js";
import { entryOffsets } from "../superchunk/entry-offsets.js";
import type { SubBlockHash, SubBlockId, SuperChunkId } from "../types.js";
import type { CheckResult } from "./fsck-check.js";
import type { ChunkBounds } from "./fsck-meta.js";
import type { FsckProgress } from "./fsck-report.js";
import { verifySuperChunk } from "./fsck-verify.js";
import { applyRewrite, type RewriteItem } from "./repack-write.js";

/** What a repair from a copy achieved. */
export interface RepairOutcome {
  restored: number;
  rewritten: number;
  /** damaged sub-blocks still damaged */
  unrepaired: number[];
}

/** What is looked for: full hash (hex) or `hkey:length`, to sub-block ids. */
interface Wanted {
  readonly byHash: Map<string, number[]>;
  readonly byKey: Map<string, number[]>;
  readonly count: number;
}

const keyOf = (hkey: bigint, length: number) => `${hkey}:${length}`;

function push(m: Map<string, number[]>, k: string, id: number): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [id]);
  else list.push(id);
}

/** The damaged rows of each bad super-chunk, keyed as precisely as its header allows. */
function wantedOf(check: CheckResult): Wanted {
  const byHash = new Map<string, number[]>();
  const byKey = new Map<string, number[]>();
  let count = 0;
  for (const v of check.bad) {
    const at = new Map<number, number>();
    const offs = v.header === undefined ? undefined : entryOffsets(v.header);
    v.header?.entries.forEach((_, i) => {
      at.set(offs![i]!, i);
    });
    for (const r of check.rowsBySc.get(v.id) ?? []) {
      if (!v.damaged.has(r.id)) continue;
      count++;
      const e = v.header?.entries[at.get(r.offset) ?? -1];
      if (e !== undefined && e.length === r.length && hashKey(e.hash) === r.hkey) {
        push(byHash, e.hash.toString("hex"), r.id);
      } else push(byKey, keyOf(r.hkey, r.length), r.id);
    }
  }
  return { byHash, byKey, count };
}

/** Regular files below `dir`, depth first. */
function* filesUnder(dir: string): Generator<string> {
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) yield* filesUnder(p);
    else if (d.isFile()) yield p;
  }
}

/** Cuts and hashes the copy; returns the bytes and full hash of every wanted sub-block found. */
function scanCopy(
  dir: string,
  bounds: ChunkBounds,
  wanted: Wanted,
  onProgress?: (p: FsckProgress) => void,
): Map<number, { hash: SubBlockHash; bytes: Buffer }> {
  const params = chunkerParams({
    avgBytes: bounds.avgBytes,
    minBytes: bounds.minBytes,
    maxBytes: bounds.maxBytes,
    mode: bounds.fixed ? "fixed" : "cdc",
  });
  const found = new Map<number, { hash: SubBlockHash; bytes: Buffer }>();
  let files = 0;
  for (const file of filesUnder(dir)) {
    if (found.size >= wanted.count) break;
    const data = fs.readFileSync(file);
    let s = 0;
    for (const len of cutAll(data, params)) {
      const bytes = data.subarray(s, s + len);
      s += len;
      const hash = createHash("sha256").update(bytes).digest() as SubBlockHash;
      const ids = [
        ...(wanted.byHash.get(hash.toString("hex")) ?? []),
        ...(wanted.byKey.get(keyOf(hashKey(hash), len)) ?? []),
      ];
      for (const id of ids) if (!found.has(id)) found.set(id, { hash, bytes: Buffer.from(bytes) });
    }
    onProgress?.({
      phase: "repair-scan",
      filesDone: ++files,
      filesTotal: 0,
      bytesDone: 0,
      bytesTotal: 0,
    });
  }
  return found;
}

/** Restores what the copy at `copyDir` holds; rewrites the super-chunks it can make whole. */
export async function repairFromCopy(
  ms: MaintainedStore,
  check: CheckResult,
  copyDir: string,
  pool: CodecPool,
  bounds: ChunkBounds,
  onProgress?: (p: FsckProgress) => void,
): Promise<RepairOutcome> {
  const wanted = wantedOf(check);
  const found = wanted.count === 0 ? new Map() : scanCopy(copyDir, bounds, wanted, onProgress);
  const groups: RewriteItem[][] = [];
  const drop: SubBlockId[] = [];
  const retire: SuperChunkId[] = [];
  const source = new Map<number, Buffer>();
  for (const v of check.bad) {
    const rows = check.rowsBySc.get(v.id) ?? [];
    if (!rows.some((r) => v.damaged.has(r.id))) continue;
    const sc = check.snap.superChunks.get(v.id)!;
    const again = await verifySuperChunk(sc, rows, ms.blobs, pool, true);
    const plan = planChunk(rows, again, found, source);
    if (plan === undefined) continue;
    if (plan.items.length > 0) groups.push(plan.items);
    drop.push(...plan.drop);
    retire.push(v.id as SuperChunkId);
  }
  const restored = groups.flat().filter((it) => found.has(it.id)).length;
  if (retire.length > 0) {
    const settings = readStoreSettings(ms.meta);
    await applyRewrite(
      {
        blobs: ms.blobs,
        rewrite: ms.rewrite,
        pool,
        codec: settings.codec,
        level: settings.level,
        firstId: check.snap.lastSuperChunkId + 1,
        fetch: (it) => source.get(it.id)!,
        onWritten: (done, total, raw) =>
          onProgress?.({
            phase: "repair-write",
            filesDone: done,
            filesTotal: total,
            bytesDone: raw,
            bytesTotal: 0,
          }),
      },
      { groups, drop, retire },
    );
  }
  const fixed = new Set(groups.flat().map((it) => it.id as number));
  const unrepaired = [...check.damaged].filter((id) => !fixed.has(id)).sort((a, b) => a - b);
  return { restored, rewritten: groups.length, unrepaired };
}

/** The new content of one damaged super-chunk, or undefined when a live sub-block is lost. */
function planChunk(
  rows: readonly SnapshotSubBlock[],
  v: Awaited<ReturnType<typeof verifySuperChunk>>,
  found: Map<number, { hash: SubBlockHash; bytes: Buffer }>,
  source: Map<number, Buffer>,
): { items: RewriteItem[]; drop: SubBlockId[] } | undefined {
  const items: RewriteItem[] = [];
  const drop: SubBlockId[] = [];
  const offs = v.header === undefined ? undefined : entryOffsets(v.header);
  const at = new Map<number, number>();
  v.header?.entries.forEach((_, i) => {
    at.set(offs![i]!, i);
  });
  for (const r of rows) {
    const copy = found.get(r.id);
    const e = v.header?.entries[at.get(r.offset) ?? -1];
    let item: { hash: SubBlockHash; bytes: Buffer } | undefined = copy;
    if (item === undefined && !v.damaged.has(r.id) && v.raw !== undefined && e !== undefined) {
      item = { hash: e.hash, bytes: v.raw.subarray(r.offset, r.offset + r.length) };
    }
    if (item === undefined) {
      if (r.refcount > 0) return undefined;
      drop.push(r.id);
      continue;
    }
    source.set(r.id, item.bytes);
    items.push({ id: r.id, hash: item.hash, length: r.length });
  }
  return items.length === 0 && drop.length === 0 ? undefined : { items, drop };
}
