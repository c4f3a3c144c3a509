/**
 * Layout of clusters: the order of the members inside a cluster, and the order of the clusters.
 *
 * Members: "index" keeps walk order inside a group (for versions of one region: oldest tree
 * first); "reverse" lays a group out backwards (clusters by descending key, members newest
 * first), so that what the last tree walked holds sits at the front of its super-chunk.
 *
 * Clusters: "last" sorts them by their last member in walk order, so clusters that reach the
 * last tree walked (the newest release, when trees are named by version) are laid out in that
 * tree's file order, at the end, and touch few super-chunks; "first" sorts by first member.
 */

import { type IndexLists, IndexListsBuilder } from "./index-lists.js";

/** How members and clusters are ordered. */
export interface LayoutParams {
  memberOrder: "index" | "reverse";
  clusterKey: "first" | "last";
}

function clusterKey(clusters: IndexLists, k: number, p: Readonly<LayoutParams>): number {
  const m = clusters.at(k);
  return p.clusterKey === "last" ? m[m.length - 1]! : m[0]!;
}

/**
 * The runs of `groups` (lists of cluster indices): one run of items per group, the groups by
 * key, the clusters of a group by key, members as `memberOrder` says. Keys are distinct items.
 */
export function layoutGroups(
  clusters: IndexLists,
  groups: IndexLists,
  p: Readonly<LayoutParams>,
): IndexLists {
  const keyOf = new Float64Array(groups.count);
  for (let g = 0; g < groups.count; g++) {
    let key = p.clusterKey === "last" ? -1 : Number.POSITIVE_INFINITY;
    for (const k of groups.at(g)) {
      const ck = clusterKey(clusters, k, p);
      key = p.clusterKey === "last" ? Math.max(key, ck) : Math.min(key, ck);
    }
    keyOf[g] = key;
  }
  const order = Uint32Array.from({ length: groups.count }, (_, g) => g).sort(
    (x, y) => keyOf[x]! - keyOf[y]!,
  );
  const out = new IndexListsBuilder(clusters.items.length);
  for (const g of order) {
    const from = out.used;
    const parts = groups.at(g);
    const sorted =
      parts.length === 1
        ? parts
        : Uint32Array.from(parts).sort(
            (x, y) => clusterKey(clusters, x, p) - clusterKey(clusters, y, p),
          );
    for (const k of sorted) for (const i of clusters.at(k)) out.push(i);
    if (p.memberOrder === "reverse") out.reverseFrom(from);
    out.close();
  }
  return out.done();
}
