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

import { type IndexLists, IndexListsBuilder } from "./index-lists.js";
import type { CandidateEdges } from "./lsh-candidates.js";
import { PairMaxHeap } from "./max-heap.js";

/** Sum of the byte lengths of `members`. */
export function bytesOf(
  members: ArrayLike<number> & Iterable<number>,
  lengths: ArrayLike<number>,
): number {
  let sum = 0;
  for (const i of members) sum += lengths[i]!;
  return sum;
}

/** Estimated shared bytes of the two ends of edge e. */
function edgeWeight(edges: CandidateEdges, e: number, words: number, lengths: ArrayLike<number>) {
  const j = edges.score[e]! / words;
  return (j / (1 + j)) * (lengths[edges.a[e]!]! + lengths[edges.b[e]!]!);
}

/** Links of one cluster: other cluster → summed weight; absent until the first link. */
type Links = Map<number, number> | undefined;

/** The links of cluster k, made when it gets its first. */
function linksOf(adj: Links[], k: number): Map<number, number> {
  let links = adj[k];
  if (links === undefined) {
    links = new Map();
    adj[k] = links;
  }
  return links;
}

function addLink(adj: Links[], x: number, y: number, w: number): void {
  const lx = linksOf(adj, x);
  const ly = linksOf(adj, y);
  lx.set(y, (lx.get(y) ?? 0) + w);
  ly.set(x, (ly.get(x) ?? 0) + w);
}

/** Cluster-to-cluster link weights, a map for each cluster that has links. */
function linkClusters(
  clusters: IndexLists,
  lengths: ArrayLike<number>,
  edges: CandidateEdges,
  words: number,
  fileNext: FileNeighbours | undefined,
): Links[] {
  const of = new Uint32Array(lengths.length);
  for (let k = 0; k < clusters.count; k++) for (const i of clusters.at(k)) of[i] = k;
  const adj: Links[] = new Array(clusters.count);
  for (let e = 0; e < edges.a.length; e++) {
    const x = of[edges.a[e]!]!;
    const y = of[edges.b[e]!]!;
    if (x === y) continue;
    addLink(adj, x, y, edgeWeight(edges, e, words, lengths));
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
  adj: Links[],
  of: Uint32Array,
  lengths: ArrayLike<number>,
  fileNext: FileNeighbours,
): void {
  for (let i = 0; i + 1 < lengths.length; i++) {
    if (fileNext.sameFile[i] !== 1) continue;
    const x = of[i]!;
    const y = of[i + 1]!;
    if (x === y) continue;
    addLink(adj, x, y, fileNext.weightPerByte * (lengths[i]! + lengths[i + 1]!));
  }
}

/**
 * Greedy capped merging over cluster links; state kept per surviving cluster. A cluster's
 * group is itself until a merge gives it members.
 */
class Merger {
  readonly heap = new PairMaxHeap();
  readonly groups: (number[] | undefined)[];
  readonly dead: Uint8Array;

  constructor(
    readonly adj: Links[],
    readonly bytes: Float64Array,
    readonly capBytes: number,
  ) {
    this.groups = new Array(bytes.length);
    this.dead = new Uint8Array(bytes.length);
    adj.forEach((links, x) => {
      if (links !== undefined) for (const [y, w] of links) if (x < y) this.push(w, x, y);
    });
  }

  push(w: number, x: number, y: number): void {
    this.heap.push(w, Math.min(x, y), Math.max(x, y));
  }

  /** True when the popped entry still carries the current weight of a live link. */
  private current(w: number, x: number, y: number): boolean {
    return this.dead[x] === 0 && this.dead[y] === 0 && this.adj[x]?.get(y) === w;
  }

  /** Pops links until the heap is empty, merging those still current and within the cap. */
  run(): IndexLists {
    for (let top = this.heap.pop(); top !== undefined; top = this.heap.pop()) {
      const [w, x, y] = top;
      if (!this.current(w, x, y)) continue;
      if (this.bytes[x]! + this.bytes[y]! > this.capBytes) continue;
      this.merge(x, y);
    }
    const out = new IndexListsBuilder(this.bytes.length);
    for (let k = 0; k < this.bytes.length; k++) {
      if (this.dead[k] === 1) continue;
      for (const c of this.groups[k] ?? [k]) out.push(c);
      out.close();
    }
    return out.done();
  }

  private merge(x: number, y: number): void {
    const size = (k: number) => this.adj[k]?.size ?? 0;
    const [keep, gone] = size(x) >= size(y) ? [x, y] : [y, x];
    const into = linksOf(this.adj, keep);
    into.delete(gone);
    this.bytes[keep]! += this.bytes[gone]!;
    for (const [z, w] of this.adj[gone] ?? []) {
      if (z === keep) continue;
      const nw = (into.get(z) ?? 0) + w;
      into.set(z, nw);
      this.adj[z]!.delete(gone);
      this.adj[z]!.set(keep, nw);
      this.push(nw, keep, z); // the old entries of this link are stale now
    }
    this.adj[gone] = undefined;
    this.dead[gone] = 1;
    const group = this.groups[keep] ?? [keep];
    this.groups[keep] = group;
    for (const k of this.groups[gone] ?? [gone]) group.push(k);
    this.groups[gone] = undefined;
  }
}

/**
 * Joins `clusters` into groups of cluster indices, each at most `capBytes` of raw bytes
 * (a cluster larger than capBytes stays alone). Deterministic. Group k lists its clusters.
 */
export function mergeClusters(
  clusters: IndexLists,
  lengths: ArrayLike<number>,
  edges: CandidateEdges,
  words: number,
  capBytes: number,
  fileNext?: FileNeighbours,
): IndexLists {
  const adj = linkClusters(clusters, lengths, edges, words, fileNext);
  const bytes = new Float64Array(clusters.count);
  for (let k = 0; k < clusters.count; k++) bytes[k] = bytesOf(clusters.at(k), lengths);
  return new Merger(adj, bytes, capBytes).run();
}
