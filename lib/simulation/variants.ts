/**
 * Monte Carlo variants of a path.
 * - A built-in scenario: the same event, other minute-level draws. A historical shape (or the flash crash) is rebuilt
 *   with another seed: its keyframes, big legs and low included, are pinned, and only the jump-diffusion between them
 *   is drawn again; `gbm` is a fresh GBM-with-jumps draw. Steps, window, start, price level and vol are the base
 *   path's; the warm-up is redrawn with the rest.
 * - A CSV path (no model to redraw): a moving-block bootstrap of its own rows. Blocks of `BOOTSTRAP_BLOCK`
 *   consecutive rows (each row's log return, its gap in seconds and its gas, kept together) are drawn with
 *   replacement and chained from the first price until the replay has its length again. Blocks keep a crash's
 *   minute-to-minute clustering and its gas spikes with their prices, but not its order: a variant may fall less, or
 *   more, than the file did. The warm-up is the file's own: it is the past every variant shares.
 */
import { SimulationError } from "./errors";
import { Random, streamSeed } from "./random";
import { buildScenario, type PricePath, type PricePoint } from "./scenarios";

/** Rows per bootstrap block: half an hour of one-minute rows. */
export const BOOTSTRAP_BLOCK = 30;

/** Variant i draws from streamSeed(seed, VARIANT_STREAM + i): clear of the population's and keepers' streams (1, 2). */
export const VARIANT_STREAM = 1_000;

/**
 * The index-th variant of a built-in scenario's path for a Monte Carlo seed: variant 0 is the path itself, the
 * others are deterministic for (seed, index) and differ from each other. A path that is not a built-in scenario
 * (a CSV file) is bootstrapped; it needs at least two rows of replay.
 */
export function pathVariant(path: PricePath, seed: number, index: number): PricePath {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new SimulationError(`pathVariant: the index must be a whole number 0 or more, got ${index}`);
  }
  if (!Number.isSafeInteger(seed)) throw new SimulationError(`pathVariant: the seed must be an integer, got ${seed}`);
  if (index === 0) return path;
  const variantSeed = streamSeed(seed, VARIANT_STREAM + index);
  if (path.origin === undefined) return bootstrapVariant(path, variantSeed);
  const { scenario, options } = path.origin;
  return buildScenario(scenario, { ...options, seed: variantSeed });
}

/** A moving-block bootstrap of a path without a model (see the module comment). */
export function bootstrapVariant(path: PricePath, seed: number): PricePath {
  const points = path.points;
  const steps = points.length - 1;
  if (steps < 2) {
    throw new SimulationError(`Path ${path.name} has ${points.length} rows to replay: a bootstrap needs at least 3`);
  }
  const moves = points.slice(1).map((p, i) => ({
    ret: Math.log(p.price / points[i].price),
    gap: p.timestamp - points[i].timestamp,
    gasGwei: p.gasGwei,
  }));
  const block = Math.min(BOOTSTRAP_BLOCK, steps);
  const random = new Random(seed);
  const drawn: typeof moves = [];
  while (drawn.length < steps) {
    const start = Math.floor(random.next() * (steps - block + 1));
    drawn.push(...moves.slice(start, start + Math.min(block, steps - drawn.length)));
  }
  const out: PricePoint[] = [points[0]];
  for (const move of drawn) {
    const last = out[out.length - 1];
    out.push({
      timestamp: last.timestamp + move.gap,
      price: last.price * Math.exp(move.ret),
      ...(move.gasGwei === undefined ? {} : { gasGwei: move.gasGwei }),
    });
  }
  return { name: path.name, points: out, ...(path.warmup === undefined ? {} : { warmup: path.warmup }) };
}
