/**
 * A writer's working copy of an S3 store (spec/FORMAT.md, "Object store layout"): under
 * the writer's lease, the committed generation's database is downloaded into a local
 * work directory, where the writer (a read-write mount, repack, fsck repairs) changes it
 * like a store directory's. Super-chunks it writes go straight to the bucket (new ids,
 * never named by a committed generation); super-chunks it deletes are only noted
 * (DeferredDeleteBlobStore). `publish` uploads the changed database as the next
 * generation, switches the pointer, and only then deletes the objects that generation no
 * longer names. Readers therefore always find every object their generation names.
 *
 * The work directory survives a crash: a checkout of the same generation resumes from it
 * (recovery of the writer then runs as on a store directory), so writes made durable
 * locally are published by the next writer instead of lost. A work directory left from an
 * older generation is discarded (someone committed meanwhile).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DeferredDeleteBlobStore } from "../blobstore/deferred-deletes.js";
import { S3BlobStore } from "../blobstore/s3-blob-store.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { NotFoundError, UsageError } from "../errors.js";
import { writeFileDurably } from "../store/durable.js";
import { PACKED_DB_SUFFIX } from "../store/packed-db.js";
import { DB_FILE } from "../store/store-layout.js";
import { commitGeneration, type S3Commit } from "./s3-commit.js";
import { acquireS3Lease, type S3Lease, type S3LeaseOptions } from "./s3-lease.js";
import { generationKey, POINTER_KEY, readPointer, type S3Pointer } from "./s3-store.js";

/** The work directory's record of what it is a copy of. */
const STATE_FILE = "s3-checkout.json";
/** Generations kept before the current one (readers that just read the pointer). */
const GENERATIONS_KEPT = 2;

/** Options of S3Checkout.open. */
export interface S3CheckoutOptions extends S3Options {
  /** what the lease says the writer does, e.g. "mount /mnt/x" */
  purpose: string;
  /** the local work directory; default under $XDG_CACHE_HOME (or ~/.cache)/superchunk/s3 */
  workDir?: string;
  lease?: S3LeaseOptions;
  /** messages about resuming or discarding a work directory */
  log?: (line: string) => void;
}

interface CheckoutState {
  location: string;
  endpoint: string;
  generation: number;
  /** true once a writer closed it with everything published */
  clean?: boolean;
}

/** The default work directory of a store: one per endpoint and location. */
export function defaultWorkDir(location: string, endpointName: string, env = process.env): string {
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  const id = createHash("sha256").update(`${endpointName}\n${location}`).digest("hex");
  return path.join(cache, "superchunk", "s3", id.slice(0, 20));
}

/** A writer's working copy of an S3 store. */
export class S3Checkout {
  #pointer: S3Pointer;
  #closed = false;

  private constructor(
    readonly dir: string,
    readonly s3: S3BlobStore,
    readonly blobs: DeferredDeleteBlobStore,
    readonly lease: S3Lease,
    pointer: S3Pointer,
    /**
     * true when an earlier writer's work directory of this generation, with changes it did
     * not publish (it was killed, or the endpoint was down), was taken up
     */
    readonly resumed: boolean,
  ) {
    this.#pointer = pointer;
  }

  /**
   * Takes the lease of the store at `location` and prepares the work directory.
   * E_NOT_A_STORE when nothing is committed there, E_STORE_LOCKED when another writer
   * holds the lease.
   */
  static async open(location: string, opts: S3CheckoutOptions): Promise<S3Checkout> {
    const s3 = S3BlobStore.open(location, opts);
    let lease: S3Lease | undefined;
    try {
      lease = await acquireS3Lease(s3, opts.purpose, opts.lease);
      const pointer = await readPointer(s3);
      if (pointer === undefined) {
        throw new NotFoundError(
          "E_NOT_A_STORE",
          `${s3.location}: no superchunk store there (no ${POINTER_KEY} at ${s3.settings.endpointName})`,
          { path: s3.location },
        );
      }
      const dir = opts.workDir ?? defaultWorkDir(s3.location, s3.settings.endpointName, opts.env);
      const resumed = await prepareWorkDir(dir, s3, pointer, opts.log);
      return new S3Checkout(dir, s3, new DeferredDeleteBlobStore(s3), lease, pointer, resumed);
    } catch (err) {
      await lease?.release().catch(() => {});
      await s3.close();
      throw err;
    }
  }

  get location(): string {
    return this.s3.location;
  }

  /** The committed generation this copy is at (the last one it published, or the one it started from). */
  get pointer(): S3Pointer {
    return this.#pointer;
  }

  /**
   * Commits `packedDb` (a packed database) as the next generation, then deletes what the
   * deletes noted before this call named (objects the new generation does not name), and
   * generations older than the last few. Failed deletes leave objects behind (the next
   * writer's recovery removes them), never a committed generation without its objects.
   */
  async publish(packedDb: Uint8Array): Promise<S3Commit & { deleted: number }> {
    const capture = this.blobs.capture();
    const commit = await commitGeneration(this.s3, packedDb, this.#pointer, this.lease);
    this.#pointer = {
      generation: commit.generation,
      database: generationKey(commit.generation),
      committed: new Date().toISOString(),
      etag: commit.etag,
    };
    writeState(this.dir, this.s3, commit.generation);
    const { deleted } = await this.blobs.runDeletes(capture);
    await this.#dropOldGenerations();
    return { ...commit, deleted };
  }

  /** Records that everything in the work directory is published (a writer closed it cleanly). */
  markClean(): void {
    writeState(this.dir, this.s3, this.#pointer.generation, true);
  }

  /** Releases the lease and closes the connection; `removeDir` also removes the work directory. */
  async close(removeDir = false): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.lease.release().catch(() => {});
      if (removeDir) fs.rmSync(this.dir, { recursive: true, force: true });
    } finally {
      await this.s3.close();
    }
  }

  async #dropOldGenerations(): Promise<void> {
    const oldest = this.#pointer.generation - GENERATIONS_KEPT;
    for (let g = oldest - 1; g >= Math.max(1, oldest - 4); g--) {
      await this.s3.delete(generationKey(g)).catch(() => {});
    }
  }
}

/**
 * Makes `dir` a work copy of `pointer`'s generation: kept as it is when it already is one
 * (answers true when it holds changes a writer did not publish), else emptied and given
 * the generation's packed database.
 */
async function prepareWorkDir(
  dir: string,
  s3: S3BlobStore,
  pointer: S3Pointer,
  log?: (line: string) => void,
): Promise<boolean> {
  const state = readState(dir);
  if (state?.location === s3.location && state.generation === pointer.generation) {
    // from now on the writer changes it: dirty until its next clean close
    writeState(dir, s3, pointer.generation, false);
    if (state.clean === true) return false;
    log?.(`${s3.location}: resuming the work directory ${dir} (generation ${state.generation})`);
    return true;
  }
  if (state === undefined && fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new UsageError(
      "E_DEST_EXISTS",
      `${dir}: not empty and not a work directory of an S3 store`,
      {
        path: dir,
      },
    );
  }
  if (state !== undefined && state.clean !== true) {
    // changes that were never published, on top of a generation that is no longer current
    // (another writer committed since): kept aside for the user, never merged
    const aside = `${dir}.unpublished-${new Date().toISOString().replace(/[:.]/g, "")}`;
    fs.renameSync(dir, aside);
    log?.(
      `${s3.location}: ${dir} held changes to generation ${state.generation} that were never published, but the store is at generation ${pointer.generation} now: moved them aside to ${aside}`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const packed = await s3.get(pointer.database);
  writeFileDurably(path.join(dir, `${DB_FILE}${PACKED_DB_SUFFIX}`), packed);
  writeState(dir, s3, pointer.generation);
  return false;
}

function readState(dir: string): CheckoutState | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")) as CheckoutState;
    return typeof v.generation === "number" && typeof v.location === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

function writeState(dir: string, s3: S3BlobStore, generation: number, clean = false): void {
  const state: CheckoutState = {
    location: s3.location,
    endpoint: s3.settings.endpointName,
    generation,
    clean,
  };
  writeFileDurably(path.join(dir, STATE_FILE), Buffer.from(`${JSON.stringify(state)}\n`));
}
