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

import type { Cluster } from "./cluster.js";

/** How members and clusters are ordered. */
export interface LayoutParams {
  memberOrder: "index" | "reverse";
  clusterKey: "first" | "last";
}

function clusterKey(c: Cluster, p: Readonly<LayoutParams>): number {
  return p.clusterKey === "last" ? c.members[c.members.length - 1]! : c.members[0]!;
}

/**
 * One run per group of clusters (indices into `clusters`), in layout order: inside a group the
 * clusters are sorted by key and their members concatenated; groups are sorted by the largest
 * ("last") or smallest ("first") key of their clusters.
 */
export function layoutGroups(
  clusters: readonly Cluster[],
  groups: readonly (readonly number[])[],
  p: Readonly<LayoutParams>,
): number[][] {
  const keyed = groups.map((g) => {
    const parts = g.map((k) => ({ key: clusterKey(clusters[k]!, p), c: clusters[k]! }));
    parts.sort((x, y) => x.key - y.key);
    const run = parts.flatMap((part) => part.c.members);
    if (p.memberOrder === "reverse") run.reverse();
    const key = p.clusterKey === "last" ? parts[parts.length - 1]!.key : parts[0]!.key;
    return { key, run };
  });
  keyed.sort((x, y) => x.key - y.key);
  return keyed.map((k) => k.run);
}
