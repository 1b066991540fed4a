import { parentPort, workerData } from 'node:worker_threads';
import { createSqliteStore } from '@hafence/store-typeorm';

// A second SQLite connection on its own thread and event loop, as a second process
// would hold it: its busy wait for the write lock blocks only itself.
const store = await createSqliteStore({ path: (workerData as { path: string }).path });
const port = parentPort!;
port.on('message', (m: { id: number; method: string; args: unknown[] }) => {
  const method = (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[m.method]!;
  method.apply(store, m.args).then(
    (value) => port.postMessage({ id: m.id, value }),
    (e: unknown) => port.postMessage({ id: m.id, error: { message: String(e), code: (e as { code?: string }).code } }),
  );
});
port.postMessage({ ready: true });
