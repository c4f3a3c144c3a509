/**
 * Suites that need a service of this machine: "fuse" (a usable /dev/fuse and fusermount),
 * "nginx" (test/helpers/nginx.ts) or "ceph" (the private cluster of test/helpers/ceph.ts).
 * suiteNeeding(name, needs) gives a uvu suite with the preamble every such suite repeats:
 * - `t` is the suite's test function, or its skip when a needed service is missing (the
 *   reason is logged once); `test` runs whatever is missing;
 * - Ceph is started (and its AWS_* variables exported, so mount servers started as child
 *   processes inherit them) before the suite's own before hooks run;
 * - the teardown always runs, in this order, each step even when an earlier one failed:
 *   the suite's own teardown steps (`teardown(fn)`), a lazy unmount of every mountpoint
 *   still mounted (logged), nginx and Ceph stopped, the environment restored, temporary
 *   directories removed.
 */
import { suite, type Test } from "uvu";
import { type Ceph, cephSkipReason, startCeph } from "./ceph.js";
import { forceUnmountAll, fuseSkipReason } from "./mount.js";
import { startNginx as launchNginx, type Nginx, nginxSkipReason } from "./nginx.js";
import { cleanupTmp } from "./tree.js";

/** A service a suite may need. */
export type Service = "fuse" | "nginx" | "ceph";

const CHECKS: Record<Service, () => string | undefined> = {
  fuse: fuseSkipReason,
  nginx: nginxSkipReason,
  ceph: cephSkipReason,
};
const reasons = new Map<Service, string | undefined>();

/** Why a suite needing `needs` cannot run here (the first missing service), or undefined. */
export function skipReason(needs: readonly Service[]): string | undefined {
  for (const s of needs) {
    if (!reasons.has(s)) reasons.set(s, CHECKS[s]());
    const why = reasons.get(s);
    if (why !== undefined) return why;
  }
  return undefined;
}

/** A uvu test function (a suite's, or its skip). */
export type TestFn = Test["skip"];

/** A uvu suite with the skips, the service start and the teardown wired. */
export interface ServiceSuite {
  /** The suite itself, for tests that need none of the services; call `test.run()` at the end. */
  readonly test: Test;
  /** `test`, or `test.skip` when a needed service is missing. */
  readonly t: TestFn;
  /** Why `t` skips, or undefined. */
  readonly skip: string | undefined;
  /** `test` when the `more` services are usable too, else `test.skip` (reason logged once). */
  needing(...more: Service[]): TestFn;
  /** The cluster (needs "ceph"), running from the suite's first before hook to its teardown. */
  readonly ceph: Ceph;
  /** The nginx `startNginx` started. */
  readonly nginx: Nginx;
  /** Starts nginx serving `root` (needs "nginx"); it is stopped at teardown. */
  startNginx(root: string): Promise<Nginx>;
  /** Adds a step to the suite's teardown, run before the services stop (in the order added). */
  teardown(step: () => unknown): void;
}

/**
 * A uvu suite named `name` for tests that need `needs`.
 *
 * @example
 * const { test, t, ceph } = suiteNeeding("s3", ["ceph", "fuse"]);
 * t("s3 - pack to S3", async () => { … ceph.endpoint … });
 * test.run();
 */
export function suiteNeeding(name: string, needs: readonly Service[]): ServiceSuite {
  const test = suite(name);
  const skip = skipReason(needs);
  if (skip) console.log(`${name}: skipping (${skip})`);
  let ceph: Ceph | undefined;
  let nginx: Nginx | undefined;
  let envBefore: Record<string, string | undefined> | undefined;
  const steps: (() => unknown)[] = [];
  const logged = new Set<string>();

  test.before(async () => {
    if (skip || !needs.includes("ceph")) return;
    ceph = await startCeph();
    const env = ceph.env();
    envBefore = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    console.log(`${name}: ceph up in ${ceph.startMs} ms at ${ceph.endpoint}`);
  });
  test.after(async () => {
    await allOf([
      ...steps.splice(0),
      () => {
        const left = forceUnmountAll();
        if (left.length > 0) console.error(`${name}: had to force-unmount ${left.join(", ")}`);
      },
      () => nginx?.stop(),
      () => ceph?.resumeGateway(), // a paused gateway would not stop
      () => ceph?.stop(),
      () => restoreEnv(envBefore),
      cleanupTmp,
    ]);
    ceph = nginx = envBefore = undefined;
  });

  return {
    test,
    t: skip ? test.skip : test,
    skip,
    needing(...more) {
      if (skip) return test.skip; // already said why
      const why = skipReason(more);
      if (why === undefined) return test;
      if (!logged.has(why)) console.log(`${name}: skipping the tests needing ${more} (${why})`);
      logged.add(why);
      return test.skip;
    },
    ceph: running(() => ceph, `${name}: ceph is not running`),
    nginx: running(() => nginx, `${name}: nginx is not running (startNginx() starts it)`),
    async startNginx(root) {
      if (!needs.includes("nginx")) throw new Error(`${name}: nginx is not in needs`);
      if (nginx) throw new Error(`${name}: nginx is already serving`);
      nginx = await launchNginx(root);
      return nginx;
    },
    teardown: (step) => steps.push(step),
  };
}

/** A stand-in for the service `get` answers, failing with `missing` while there is none. */
function running<T extends object>(get: () => T | undefined, missing: string): T {
  const now = (): T => {
    const v = get();
    if (v === undefined) throw new Error(missing);
    return v;
  };
  return new Proxy({} as T, {
    get(_target, key) {
      const v = Reflect.get(now(), key);
      return typeof v === "function" ? v.bind(now()) : v;
    },
  });
}

/** Runs every step in order, even after a failure; rethrows the first failure. */
async function allOf(steps: readonly (() => unknown)[]): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

function restoreEnv(before: Record<string, string | undefined> | undefined): void {
  for (const [k, v] of Object.entries(before ?? {})) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}
