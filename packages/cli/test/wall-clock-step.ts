// Preloaded into a `hafence serve` of the e2e tests (NODE_OPTIONS=--import): each SIGUSR2 steps this
// process's wall clock (Date.now) back one hour, as an NTP step or an operator's `date -s` would. Timers
// (setTimeout) keep running on the monotonic clock, as they do for real.
const realNow = Date.now.bind(Date);
let offset = 0;
Date.now = () => realNow() + offset;
process.on('SIGUSR2', () => {
  offset -= 3_600_000;
});
