import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { ConformanceStore } from '@hafence/testkit';

type Reply = { id: number; value?: unknown; error?: { message: string; code?: string } };

/**
 * Opens the SQLite file at `path` in a worker thread and returns a store whose every
 * method runs there: two connections contending for the file's write lock without sharing
 * an event loop, as two processes would.
 */
export async function openWorkerPeer(path: string): Promise<ConformanceStore & { close(): Promise<void> }> {
  const worker = new Worker(new URL('./sqlite-peer-worker.js', import.meta.url), { workerData: { path } });
  const [first] = (await once(worker, 'message')) as [{ ready?: boolean }];
  if (!first.ready) throw new Error('the SQLite peer worker did not start');
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  worker.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    else p?.resolve(m.value);
  });
  const call = (method: string, args: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      pending.set(++next, { resolve, reject });
      worker.postMessage({ id: next, method, args });
    });
  const close = async () => {
    await call('close', []);
    await worker.terminate();
  };
  return new Proxy({} as ConformanceStore & { close(): Promise<void> }, {
    get: (_, method) =>
      method === 'close' ? close : method === 'then' ? undefined : (...args: unknown[]) => call(String(method), args),
  });
}
