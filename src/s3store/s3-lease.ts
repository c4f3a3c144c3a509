/**
 * The writer's lease on an S3 store: the object `<prefix>/lease`, JSON naming the
 * holder and when the lease expires. Taken with If-None-Match: * (or by a
 * conditional replace of an expired lease), renewed with If-Match on its own ETag
 * while held, deleted on release. A second writer is refused with E_STORE_LOCKED
 * naming the holder. Expiry compares the holder's clock with the taker's: clocks
 * must agree to well within the time to live. A lease left behind on this host by a
 * process that is gone (its pid no longer exists), or by this process itself after
 * its holder let go (a release that could not delete the object, e.g. while the
 * endpoint was down), is stale: it is taken over at once, like an expired one,
 * instead of blocking writers for the rest of its time to live.
 */
import { randomBytes } from "node:crypto";
import * as os from "node:os";
import type { S3BlobStore } from "../blobstore/s3-blob-store.js";
import { UsageError } from "../errors.js";

export const LEASE_KEY = "lease";

/** What the lease object says. */
export interface S3LeaseInfo {
  /** random id of this lease */
  readonly holder: string;
  readonly host: string;
  readonly pid: number;
  /** what the holder is doing, e.g. "pack /src" */
  readonly purpose: string;
  /** ISO time the lease was taken */
  readonly since: string;
  /** ISO time after which another writer may take it over */
  readonly expires: string;
}

/** Options of acquireS3Lease. */
export interface S3LeaseOptions {
  /** ms a lease stays valid without renewal; default 60000 */
  ttlMs?: number;
  /** ms between renewals; default a third of `ttlMs` */
  renewMs?: number;
}

/** A held lease. */
export interface S3Lease {
  readonly info: S3LeaseInfo;
  /** Throws E_STORE_LOCKED when the lease was lost (taken over or expired unrenewed). */
  check(): void;
  /** The current ETag of the lease object (what a commit may assert). */
  etag(): string;
  /** Stops renewing and deletes the lease object if it is still this one; idempotent. */
  release(): Promise<void>;
}

const DEFAULT_TTL_MS = 60_000;

/** Holder ids of the leases this process holds and has not released. */
const heldHere = new Set<string>();

/** The lease object's holder, or undefined when there is none or it has expired. */
export async function readS3Lease(blobs: S3BlobStore): Promise<S3LeaseInfo | undefined> {
  const obj = await blobs.getTagged(LEASE_KEY);
  const info = obj === undefined ? undefined : parseLease(obj.data);
  return info !== undefined && Date.parse(info.expires) > Date.now() ? info : undefined;
}

function parseLease(data: Buffer): S3LeaseInfo | undefined {
  try {
    const v = JSON.parse(data.toString("utf8")) as Partial<S3LeaseInfo>;
    if (typeof v.holder !== "string" || typeof v.expires !== "string") return undefined;
    return {
      holder: v.holder,
      host: String(v.host ?? ""),
      pid: Number(v.pid ?? 0),
      purpose: String(v.purpose ?? ""),
      since: String(v.since ?? ""),
      expires: v.expires,
    };
  } catch {
    return undefined;
  }
}

/** "pid N on HOST (PURPOSE, since T, until U)" */
export function describeLease(info: S3LeaseInfo): string {
  return `pid ${info.pid} on ${info.host} (${info.purpose}, since ${info.since}, until ${info.expires})`;
}

function body(info: S3LeaseInfo): Buffer {
  return Buffer.from(`${JSON.stringify(info)}\n`);
}

/**
 * Takes the writer's lease of the store `blobs` is rooted at. E_STORE_LOCKED naming the
 * holder when another writer holds an unexpired lease; an expired or unreadable lease is
 * replaced (conditionally: of two takers, one wins).
 */
export async function acquireS3Lease(
  blobs: S3BlobStore,
  purpose: string,
  opts: S3LeaseOptions = {},
): Promise<S3Lease> {
  const ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
  const now = Date.now();
  const info: S3LeaseInfo = {
    holder: randomBytes(8).toString("hex"),
    host: os.hostname(),
    pid: process.pid,
    purpose,
    since: new Date(now).toISOString(),
    expires: new Date(now + ttlMs).toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    let etag = await blobs.putIf(LEASE_KEY, body(info), { ifNoneMatch: "*" });
    if (etag === undefined) {
      const cur = await blobs.getTagged(LEASE_KEY);
      if (cur === undefined) continue; // released meanwhile: try again
      const held = parseLease(cur.data);
      if (held !== undefined && Date.parse(held.expires) > Date.now() && !isStale(held)) {
        throw new UsageError(
          "E_STORE_LOCKED",
          `${blobs.location}: store is in use by ${describeLease(held)}`,
          { path: blobs.location, holder: held },
        );
      }
      etag = await blobs.putIf(LEASE_KEY, body(info), { ifMatch: cur.etag });
    }
    if (etag !== undefined) return new HeldLease(blobs, info, etag, ttlMs, opts.renewMs);
  }
  throw new UsageError("E_STORE_LOCKED", `${blobs.location}: could not take the writer's lease`, {
    path: blobs.location,
  });
}

/**
 * True when `info` was written on this host by a process that no longer exists, or by
 * this process for a lease it no longer holds. A pid that exists but belongs to another
 * user (EPERM) counts as alive; leases of other hosts are never stale before expiry.
 */
export function isStale(info: S3LeaseInfo): boolean {
  if (info.host !== os.hostname() || !Number.isInteger(info.pid) || info.pid <= 0) return false;
  if (info.pid === process.pid) return !heldHere.has(info.holder);
  try {
    process.kill(info.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** A lease this process holds, renewed on a timer until released. */
class HeldLease implements S3Lease {
  private current: S3LeaseInfo;
  private tag: string;
  private lost: string | undefined;
  /** the lease object was replaced by another writer's (for good, unlike expiry) */
  private replaced = false;
  private readonly timer: NodeJS.Timeout;
  private renewing: Promise<void> | undefined;
  private released = false;

  constructor(
    private readonly blobs: S3BlobStore,
    readonly info: S3LeaseInfo,
    etag: string,
    private readonly ttlMs: number,
    renewMs = Math.max(1, Math.floor(ttlMs / 3)),
  ) {
    this.current = info;
    this.tag = etag;
    heldHere.add(info.holder);
    this.timer = setInterval(() => {
      this.renewing ??= this.renew().finally(() => {
        this.renewing = undefined;
      });
    }, renewMs);
    this.timer.unref();
  }

  check(): void {
    if (this.lost === undefined && Date.parse(this.current.expires) <= Date.now()) {
      this.lost = "it expired before it could be renewed";
    }
    if (this.lost !== undefined) {
      throw new UsageError(
        "E_STORE_LOCKED",
        `${this.blobs.location}: lost the writer's lease: ${this.lost}`,
        {
          path: this.blobs.location,
          holder: this.info,
        },
      );
    }
  }

  etag(): string {
    return this.tag;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.info.holder);
    clearInterval(this.timer);
    await this.renewing;
    if (this.lost !== undefined) return;
    const cur = await this.blobs.getTagged(LEASE_KEY);
    // a small window remains between this check and the delete (RGW 16 has no conditional
    // DELETE); a writer taking over in it would find its lease gone and commit unguarded
    if (cur?.etag === this.tag) await this.blobs.delete(LEASE_KEY);
  }

  /**
   * Extends the lease by its time to live (If-Match on its last ETag). A lease that expired
   * unrenewed (the endpoint was unreachable) is regained the same way when its object is
   * still this lease's: nobody took it over meanwhile, so nobody committed.
   */
  private async renew(): Promise<void> {
    if (this.released || this.replaced) return;
    const next = { ...this.current, expires: new Date(Date.now() + this.ttlMs).toISOString() };
    try {
      const etag = await this.blobs.putIf(LEASE_KEY, body(next), { ifMatch: this.tag });
      if (etag === undefined) {
        this.replaced = true;
        this.lost = "another writer replaced it";
      } else {
        this.tag = etag;
        this.current = next;
        this.lost = undefined;
      }
    } catch {
      // the endpoint may be back before the lease expires; check() notices expiry
    }
  }
}
