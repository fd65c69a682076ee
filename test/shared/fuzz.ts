/**
 * How much random testing a run does. `npm test` (and so CI) uses each suite's default; `npm run fuzz` sets
 * `FUZZ_RUNS` (and `FUZZ_SEED` replays a failure that fast-check reported).
 */
import fc from "fast-check";

function positiveInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}

/** fast-check parameters for a property or model-based suite whose CI default is `ciRuns` runs. */
export function fuzzParameters<T>(ciRuns: number): fc.Parameters<T> {
  const seed = process.env.FUZZ_SEED;
  return {
    numRuns: positiveInt("FUZZ_RUNS") ?? ciRuns,
    ...(seed === undefined || seed === "" ? {} : { seed: Number(seed) }),
    // A failure prints its seed and path: `FUZZ_SEED=<seed> npm test -- <spec>` replays it.
    verbose: fc.VerbosityLevel.Verbose,
  };
}

/** A bigint in [min, max] (min >= 0) whose bit length is uniform: every order of magnitude is drawn as often. */
export function logBigInt(min: bigint, max: bigint): fc.Arbitrary<bigint> {
  const bits = (x: bigint): number => x.toString(2).length;
  return fc.integer({ min: bits(min), max: bits(max) }).chain((n) => {
    const from = n === 1 ? 0n : 1n << BigInt(n - 1);
    const to = (1n << BigInt(n)) - 1n;
    return fc.bigInt({ min: from > min ? from : min, max: to < max ? to : max });
  });
}

/** One of `arbs`, each drawn with its weight. */
export function weighted<T>(...arbs: [number, fc.Arbitrary<T>][]): fc.Arbitrary<T> {
  return fc.oneof(...arbs.map(([weight, arbitrary]) => ({ weight, arbitrary })));
}
