import fc from 'fast-check';

// Shared by every parser fuzz test (the IPMI client's and SimBmc's): one corpus mutator.

/** Fixed seed so CI failures reproduce; `HAFENCE_FUZZ_SCALE=10` runs ten times more. */
export const FUZZ_SEED = 20261125;

/** Number of runs for a property, scaled by `HAFENCE_FUZZ_SCALE`. */
export function fuzzRuns(base: number): number {
  const scale = Number(process.env.HAFENCE_FUZZ_SCALE ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/** A valid packet with random byte edits, a cut, and junk appended. */
export function mutated(corpus: readonly Buffer[]): fc.Arbitrary<Buffer> {
  return fc
    .record({
      base: fc.constantFrom(...corpus),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      extra: fc.uint8Array({ maxLength: 24 }),
    })
    .map(({ base, edits, cut, extra }) => {
      const b = Buffer.concat([Buffer.from(base), Buffer.from(extra)]);
      for (const [at, v] of edits) if (b.length) b[at % b.length] = v;
      return cut === undefined || b.length === 0 ? b : b.subarray(0, cut % (b.length + 1));
    });
}

/** Random datagrams: pure noise, and noise behind a valid RMCP header. */
export function noise(): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 160 }).map((a) => Buffer.from(a)),
    fc
      .tuple(fc.constantFrom(0x06, 0x07), fc.constantFrom(0x00, 0x06), fc.uint8Array({ maxLength: 120 }))
      .map(([cls, auth, rest]) => Buffer.concat([Buffer.from([0x06, 0x00, 0xff, cls, auth]), Buffer.from(rest)])),
  );
}
