/**
 * Second level of clustering: joins clusters into groups of at most `capBytes` (one super-chunk
 * each) by how much content they share. The weight of a candidate edge between sub-blocks x and
 * y is the estimated number of shared bytes, J / (1 + J) * (|x| + |y|) with J the sketch
 * agreement; the link between two clusters is the sum of the weights of the edges between
 * them, plus, optionally, a small weight per byte between sub-blocks that follow each other in
 * one file (they share names and context even when no sketch says so). Links are taken
 * heaviest first; a link whose two sides no longer fit together in capBytes is dropped. This
 * is greedy graph partitioning: what stays cut is content coded in two super-chunks.
 */

import type { Cluster } from "./cluster.js";
import type { CandidateEdges } from "./lsh-candidates.js";
import { PairMaxHeap } from "./max-heap.js";

/** Sum of the byte lengths of `members`. */
export function bytesOf(members: readonly number[], lengths: ArrayLike<number>): number {
  let sum = 0;
  for (const i of members) sum += lengths[i]!;
  return sum;
}

/** Estimated shared bytes of the two ends of edge e. */
function edgeWeight(edges: CandidateEdges, e: number, words: number, lengths: ArrayLike<number>) {
  const j = edges.score[e]! / words;
  return (j / (1 + j)) * (lengths[edges.a[e]!]! + lengths[edges.b[e]!]!);
}

/** Cluster-to-cluster link weights, one map per cluster. */
function linkClusters(
  clusters: readonly Cluster[],
  lengths: ArrayLike<number>,
  edges: CandidateEdges,
  words: number,
  fileNext: FileNeighbours | undefined,
): Map<number, number>[] {
  const of = new Uint32Array(lengths.length);
  clusters.forEach((c, k) => {
    for (const i of c.members) of[i] = k;
  });
  const adj = clusters.map(() => new Map<number, number>());
  for (let e = 0; e < edges.a.length; e++) {
    const x = of[edges.a[e]!]!;
    const y = of[edges.b[e]!]!;
    if (x === y) continue;
    const w = edgeWeight(edges, e, words, lengths);
    adj[x]!.set(y, (adj[x]!.get(y) ?? 0) + w);
    adj[y]!.set(x, (adj[y]!.get(x) ?? 0) + w);
  }
  if (fileNext !== undefined) linkNeighbours(adj, of, lengths, fileNext);
  return adj;
}

/** Sub-blocks that follow each other in one file, and the weight of such a link per byte. */
export interface FileNeighbours {
  /** sameFile[i] = 1 when item i + 1 continues the file of item i */
  readonly sameFile: Uint8Array;
  readonly weightPerByte: number;
}

function linkNeighbours(
  adj: Map<number, number>[],
  of: Uint32Array,
  lengths: ArrayLike<number>,
  fileNext: FileNeighbours,
): void {
  for (let i = 0; i + 1 < lengths.length; i++) {
    if (fileNext.sameFile[i] !== 1) continue;
    const x = of[i]!;
    const y = of[i + 1]!;
    if (x === y) continue;
    const w = fileNext.weightPerByte * (lengths[i]! + lengths[i + 1]!);
    adj[x]!.set(y, (adj[x]!.get(y) ?? 0) + w);
    adj[y]!.set(x, (adj[y]!.get(x) ?? 0) + w);
  }
}

/** Greedy capped merging over cluster links; state kept per surviving cluster. */
class Merger {
  readonly heap = new PairMaxHeap();
  readonly groups: number[][];
  readonly alive: boolean[];

  constructor(
    readonly adj: Map<number, number>[],
    readonly bytes: number[],
    readonly capBytes: number,
  ) {
    this.groups = bytes.map((_, k) => [k]);
    this.alive = bytes.map(() => true);
    adj.forEach((links, x) => {
      for (const [y, w] of links) if (x < y) this.push(w, x, y);
    });
  }

  push(w: number, x: number, y: number): void {
    this.heap.push(w, Math.min(x, y), Math.max(x, y));
  }

  /** True when the popped entry still carries the current weight of a live link. */
  private current(w: number, x: number, y: number): boolean {
    return this.alive[x] === true && this.alive[y] === true && this.adj[x]!.get(y) === w;
  }

  /** Pops links until the heap is empty, merging those still current and within the cap. */
  run(): number[][] {
    for (let top = this.heap.pop(); top !== undefined; top = this.heap.pop()) {
      const [w, x, y] = top;
      if (!this.current(w, x, y)) continue;
      if (this.bytes[x]! + this.bytes[y]! > this.capBytes) continue;
      this.merge(x, y);
    }
    return this.groups.filter((_, k) => this.alive[k]);
  }

  private merge(x: number, y: number): void {
    const [keep, gone] = this.adj[x]!.size >= this.adj[y]!.size ? [x, y] : [y, x];
    const into = this.adj[keep]!;
    into.delete(gone);
    this.bytes[keep]! += this.bytes[gone]!;
    for (const [z, w] of this.adj[gone]!) {
      if (z === keep) continue;
      const nw = (into.get(z) ?? 0) + w;
      into.set(z, nw);
      this.adj[z]!.delete(gone);
      this.adj[z]!.set(keep, nw);
      this.push(nw, keep, z); // the old entries of this link are stale now
    }
    this.adj[gone]!.clear();
    this.alive[gone] = false;
    for (const k of this.groups[gone]!) this.groups[keep]!.push(k);
  }
}

/**
 * Joins `clusters` into groups of cluster indices, each at most `capBytes` of raw bytes
 * (a cluster larger than capBytes stays alone). Deterministic.
 */
export function mergeClusters(
  clusters: readonly Cluster[],
  lengths: ArrayLike<number>,
  edges: CandidateEdges,
  words: number,
  capBytes: number,
  fileNext?: FileNeighbours,
): number[][] {
  const adj = linkClusters(clusters, lengths, edges, words, fileNext);
  const bytes = clusters.map((c) => bytesOf(c.members, lengths));
  return new Merger(adj, bytes, capBytes).run();
}
