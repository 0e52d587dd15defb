// Preloaded into the soaked Portico (`node --expose-gc --require bench/soak/heap-probe.cjs`):
// every SOAK_HEAP_PROBE_MS it runs a full garbage collection and writes the live heap left
// (bytes) to stderr as one JSON line. Heap used between collections is mostly garbage waiting
// for V8's next major GC, and RSS follows V8's lazily grown high-water mark; the live heap after
// a full collection is what a leak makes grow. Harness only: Portico never loads this file.
const every = Number(process.env.SOAK_HEAP_PROBE_MS) || 2000;
setInterval(() => {
  global.gc();
  process.stderr.write(`${JSON.stringify({ soakLiveHeap: process.memoryUsage().heapUsed })}\n`);
}, every).unref();
