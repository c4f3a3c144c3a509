/**
 * Child process of the writer crash test: writes, closes and sometimes deletes files in a
 * store, printing "closed <name>" / "unlinked <name>" after each operation has returned.
 * Killed with SIGKILL by the parent at a random moment. argv: store-dir first-index seed.
 */
import { WritableStore } from "../../src/writer/index.js";
import { fileContent } from "./writer-content.js";

const [dir, firstArg, seedArg] = process.argv.slice(2);
const ctx = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

async function main(): Promise<void> {
  const store = await WritableStore.open(dir!, { freezeIdleMs: 30 });
  let seed = Number(seedArg);
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = Number(firstArg); ; i++) {
    const name = `f${i}`;
    const { fh } = store.create(ctx, store.root, Buffer.from(name), 0o644);
    store.write(fh, fileContent(name), 0);
    await store.flush(fh);
    await store.release(fh);
    process.stdout.write(`closed ${name}\n`);
    if (rnd() < 0.3 && i > 0) {
      const victim = `f${Math.floor(rnd() * i)}`;
      if (store.lookup(store.root, Buffer.from(victim)) !== undefined) {
        // said first: a kill between the unlink and the next line leaves either state
        process.stdout.write(`unlinking ${victim}\n`);
        store.unlink(store.root, Buffer.from(victim));
        process.stdout.write(`unlinked ${victim}\n`);
      }
    }
  }
}

main().catch((err) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
