/**
 * Capped single-linkage clustering: candidate edges are taken from the most to the least
 * similar, and each one joins the clusters of its two ends unless the merged cluster would
 * exceed `capBytes` of raw sub-block bytes (Kruskal's algorithm with a size limit).
 */

import { IndexLists } from "./index-lists.js";
import type { CandidateEdges } from "./lsh-candidates.js";

/** One cluster: its members, ascending item indices. */
export interface Cluster {
  readonly members: number[];
}

/** Union-find over item indices, with the total byte length of each set at its root. */
class ByteUnionFind {
  private readonly parent: Uint32Array;
  private readonly bytes: Float64Array;

  constructor(lengths: ArrayLike<number>) {
    this.parent = new Uint32Array(lengths.length);
    this.bytes = new Float64Array(lengths.length);
    for (let i = 0; i < lengths.length; i++) {
      this.parent[i] = i;
      this.bytes[i] = lengths[i]!;
    }
  }

  find(i: number): number {
    let r = i;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[i] !== r) {
      const next = this.parent[i]!;
      this.parent[i] = r;
      i = next;
    }
    return r;
  }

  /** Joins the sets of roots x and y if their bytes fit in `cap`; true when joined. */
  unionCapped(x: number, y: number, cap: number): boolean {
    const total = this.bytes[x]! + this.bytes[y]!;
    if (total > cap) return false;
    const [root, child] = x < y ? [x, y] : [y, x];
    this.parent[child] = root;
    this.bytes[root] = total;
    return true;
  }
}

/** Edge indices by descending score, then ascending (a, b): a deterministic order. */
function edgeOrder(edges: CandidateEdges): Uint32Array {
  const order = Uint32Array.from({ length: edges.a.length }, (_, i) => i);
  return order.sort(
    (x, y) =>
      edges.score[y]! - edges.score[x]! || edges.a[x]! - edges.a[y]! || edges.b[x]! - edges.b[y]!,
  );
}

/**
 * Clusters items of the given raw `lengths` along `edges`, no cluster above `capBytes`
 * (an item alone may exceed it). Clusters come out ordered by their smallest member.
 */
export function clusterCapped(
  lengths: ArrayLike<number>,
  edges: CandidateEdges,
  capBytes: number,
): Cluster[] {
  return clusterList(lengths, edges, capBytes)
    .toArrays()
    .map((members) => ({ members }));
}

/** clusterCapped as flat lists: list k holds the members of cluster k, ascending. */
export function clusterList(
  lengths: ArrayLike<number>,
  edges: CandidateEdges,
  capBytes: number,
): IndexLists {
  const n = lengths.length;
  const uf = new ByteUnionFind(lengths);
  for (const e of edgeOrder(edges)) {
    const ra = uf.find(edges.a[e]!);
    const rb = uf.find(edges.b[e]!);
    if (ra !== rb) uf.unionCapped(ra, rb, capBytes);
  }
  // a root is its set's smallest member (unionCapped keeps the smaller index as root), so
  // numbering roots in item order numbers clusters by their smallest member
  const id = new Int32Array(n).fill(-1);
  const root = new Uint32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    root[i] = uf.find(i);
    if (id[root[i]!] === -1) id[root[i]!] = count++;
  }
  const start = new Uint32Array(count + 1);
  for (let i = 0; i < n; i++) start[id[root[i]!]! + 1]!++;
  for (let k = 0; k < count; k++) start[k + 1]! += start[k]!;
  const fill = start.slice(0, count);
  const members = new Uint32Array(n);
  for (let i = 0; i < n; i++) members[fill[id[root[i]!]!]!++] = i;
  return new IndexLists(start, members);
}
