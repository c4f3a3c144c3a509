/**
 * BufferPool: the memory a WorkingSet inflates into. Buffers are views of SharedArrayBuffers,
 * so an inflate thread writes straight into them (nothing is copied or transferred back),
 * and a buffer whose entry was evicted is reused by the next load instead of waiting for the
 * garbage collector. The pool counts every byte it has handed out or keeps free, so the
 * working set can hold the whole of its memory, loads in flight included, to its capacity.
 *
 * Terms: a *slab* is one SharedArrayBuffer, its length rounded up to the pool's class size
 * (POOL_CLASS_BYTES unless the pool is made with another); it is
 * *lent* while a load or an entry owns it and *free* once given back.
 */
import { MIB } from "../types.js";

/**
 * Slab lengths are multiples of this, so the slabs of one store's super-chunks (all close to
 * its target size) come in one or two lengths and any free one serves the next load.
 */
export const POOL_CLASS_BYTES = MIB;

/** The slab behind a pooled buffer, or undefined for a buffer the pool did not make. */
export type Slab = SharedArrayBuffer;

interface TakeRequest {
  readonly size: number;
  readonly slabBytes: number;
  readonly limit: number;
  readonly makeRoom: () => boolean;
  resolve: (buf: Buffer) => void;
}

export class BufferPool {
  /** @param classBytes slab lengths are multiples of this; default POOL_CLASS_BYTES */
  constructor(readonly classBytes: number = POOL_CLASS_BYTES) {}

  readonly #ours = new WeakSet<SharedArrayBuffer>();
  readonly #waiting: TakeRequest[] = [];
  #pumping = false;
  /** free slabs, any order */
  #free: Slab[] = [];
  #freeBytes = 0;
  #lentBytes = 0;

  /** Bytes of slabs lent out (loads in flight and cached entries). */
  get lentBytes(): number {
    return this.#lentBytes;
  }

  /** Bytes of free slabs kept for reuse. */
  get freeBytes(): number {
    return this.#freeBytes;
  }

  /**
   * A buffer of exactly `size` bytes over a slab of at least `slabBytes` (default `size`):
   * a free slab large enough (the smallest such), else a new one while lent + free stays
   * within `limit`. Beyond that `makeRoom()` is asked to free memory (evict an entry, whose
   * slab comes back here; false when it cannot), and failing that the call waits until a
   * slab is given back or `pump` finds room. Only when nothing at all is lent does a slab go
   * over the limit, so a limit smaller than one super-chunk still lets one load run.
   */
  take(size: number, limit: number, makeRoom: () => boolean, slabBytes = size): Promise<Buffer> {
    const req: TakeRequest = { size, slabBytes, limit, makeRoom, resolve: () => {} };
    const now = this.#tryTake(req);
    if (now !== undefined && this.#waiting.length === 0) return Promise.resolve(now);
    if (now !== undefined) this.giveBack(this.slabOf(now)!);
    return new Promise((resolve) => {
      req.resolve = resolve;
      this.#waiting.push(req);
      this.pump();
    });
  }

  /**
   * `take` that never waits and evicts nothing: a buffer of `size` bytes now (a free slab, a
   * new one within `limit`, or any while nothing is lent), else undefined.
   */
  takeNow(size: number, limit: number): Buffer | undefined {
    if (this.#waiting.length > 0) return undefined;
    const req = { size, slabBytes: size, limit, makeRoom: () => false, resolve: () => {} };
    return this.#tryTake(req);
  }

  /** Retries waiting takes in order (call when memory may have become evictable). */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#waiting.length > 0) {
        const buf = this.#tryTake(this.#waiting[0]!);
        if (buf === undefined) break;
        this.#waiting.shift()!.resolve(buf);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Takes waiting for memory. */
  get waiting(): number {
    return this.#waiting.length;
  }

  #tryTake(r: TakeRequest): Buffer | undefined {
    const want = Math.max(1, r.size, r.slabBytes);
    const cls = Math.ceil(want / this.classBytes) * this.classBytes;
    for (;;) {
      const reused = this.#takeFree(want);
      if (reused !== undefined) return this.#lend(reused, r.size);
      if (this.#lentBytes + this.#freeBytes + cls <= r.limit || this.#lentBytes === 0) break;
      // free slabs too small for this load are dropped before anything is evicted
      if (this.#dropSmallestFree()) continue;
      if (!r.makeRoom()) return undefined;
    }
    // Slabs are never dropped but for a size change: an inflate thread that wrote into one
    // keeps a reference until its own garbage collection, so memory given up would not come
    // back soon; keeping them bounds the pool by the limit.
    const slab = new SharedArrayBuffer(cls);
    this.#ours.add(slab);
    return this.#lend(slab, r.size);
  }

  /** The pool's slab under `buf`, or undefined when the pool did not make it. */
  slabOf(buf: Uint8Array): Slab | undefined {
    const b = buf.buffer;
    return b instanceof SharedArrayBuffer && this.#ours.has(b) ? b : undefined;
  }

  /** Gives a lent slab back for reuse. Nothing may use a buffer over it afterwards. */
  giveBack(slab: Slab): void {
    this.#lentBytes -= slab.byteLength;
    this.#free.push(slab);
    this.#freeBytes += slab.byteLength;
    this.pump();
  }

  #lend(slab: Slab, size: number): Buffer {
    this.#lentBytes += slab.byteLength;
    return Buffer.from(slab, 0, size);
  }

  #takeFree(size: number): Slab | undefined {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const len = this.#free[i]!.byteLength;
      if (len >= size && (best < 0 || len < this.#free[best]!.byteLength)) best = i;
    }
    if (best < 0) return undefined;
    const [slab] = this.#free.splice(best, 1);
    this.#freeBytes -= slab!.byteLength;
    return slab;
  }

  #dropSmallestFree(): boolean {
    if (this.#free.length === 0) return false;
    let min = 0;
    for (let i = 1; i < this.#free.length; i++) {
      if (this.#free[i]!.byteLength < this.#free[min]!.byteLength) min = i;
    }
    const [slab] = this.#free.splice(min, 1);
    this.#freeBytes -= slab!.byteLength;
    return true;
  }
}
