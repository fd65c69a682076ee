/**
 * A small seeded PRNG, so that every scenario and simulation run can be replayed exactly from its seed.
 *
 * The generator is mulberry32 (Tommy Ettinger, 2017; public domain): a 32-bit state advanced by a Weyl sequence and
 * mixed by two multiply-xorshift rounds. It passes gjrand and PractRand to well beyond what a price path needs, and
 * is four lines of integer arithmetic, so it gives the same sequence on every JavaScript engine. Not cryptographic.
 */
import { SimulationError } from "./errors";

/** The seed used when none is given. */
export const DEFAULT_SEED = 1;

const TWO_POW_32 = 2 ** 32;

export class Random {
  private state: number;
  /** Box–Muller yields normals in pairs; the second one is kept for the next call. */
  private spare: number | undefined;

  /** `seed`: any integer; it is reduced to 32 bits. */
  constructor(seed: number = DEFAULT_SEED) {
    if (!Number.isSafeInteger(seed)) {
      throw new SimulationError(`Random: the seed must be an integer, got ${seed}`);
    }
    this.state = Number(BigInt.asUintN(32, BigInt(seed)));
  }

  /** Uniform in [0, 1), with 32 bits of resolution. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
  }

  /** Standard normal N(0, 1) by the Box–Muller transform. */
  normal(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    // 1 - next() is in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
    const angle = 2 * Math.PI * this.next();
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}

/**
 * A seed for one independent use of a run's seed (`stream` 1 for the vault population, 2 for the keepers, …), so
 * that adding draws to one use leaves the others' sequences as they were. Not the seed itself: the scenario draws
 * from that, and a path must be the same as `policy:recommend --scenario … --seed` sees it.
 */
export function streamSeed(seed: number, stream: number): number {
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(stream)) {
    throw new SimulationError(`streamSeed: seed and stream must be integers, got ${seed} and ${stream}`);
  }
  // Golden-ratio multiplier (as in Knuth's multiplicative hashing), reduced to the 32 bits Random keeps.
  return Number(BigInt.asUintN(32, BigInt(seed) * 0x9e3779b1n + BigInt(stream) * 0x85ebca6bn));
}
