// Preloaded into `hafence serve` by the serve bench (`node --import loop-probe.js`): the
// product is not changed. Measures the event-loop delay (perf_hooks monitorEventLoopDelay,
// 10 ms resolution, as prom-client's `nodejs_eventloop_lag_*`) and GC pauses, and writes
// them as JSON to $HAFENCE_LOOP_PROBE every second. The histogram restarts when the file
// named by $HAFENCE_LOOP_PROBE.reset changes (the bench touches it at the start of its window).
import { statSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const out = process.env.HAFENCE_LOOP_PROBE;
if (out) {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let gc = { count: 0, totalMs: 0, maxMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  let resetSeen = 0;
  const ms = (ns: number) => ns / 1e6;
  const timer = setInterval(() => {
    let reset = 0;
    try {
      reset = statSync(`${out}.reset`).mtimeMs;
    } catch {
      /* not yet */
    }
    if (reset !== resetSeen) {
      resetSeen = reset;
      loop.reset();
      gc = { count: 0, totalMs: 0, maxMs: 0 };
    }
    const snapshot = {
      reset,
      samples: loop.count,
      p50: ms(loop.percentile(50)),
      p99: ms(loop.percentile(99)),
      max: ms(loop.max),
      gc,
    };
    try {
      writeFileSync(out, JSON.stringify(snapshot));
    } catch {
      /* the bench's folder is gone */
    }
  }, 1000);
  timer.unref();
}
