/**
 * Monte Carlo variants of a built-in scenario: the same event, other minute-level draws. A historical shape (or the
 * flash crash) is rebuilt with another seed: its keyframes, big legs and low included, are pinned, and only the
 * jump-diffusion between them is drawn again; `gbm` is a fresh GBM-with-jumps draw. Steps, window, start, price
 * level and vol are the base path's; the warm-up is redrawn with the rest.
 */
import { SimulationError } from "./errors";
import { streamSeed } from "./random";
import { buildScenario, type PricePath } from "./scenarios";

/** Variant i draws from streamSeed(seed, VARIANT_STREAM + i): clear of the population's and keepers' streams (1, 2). */
export const VARIANT_STREAM = 1_000;

/**
 * The index-th variant of a built-in scenario's path for a Monte Carlo seed: variant 0 is the path itself, the
 * others are deterministic for (seed, index) and differ from each other. A path that is not a built-in scenario
 * (a CSV file) has nothing to redraw and is refused.
 */
export function pathVariant(path: PricePath, seed: number, index: number): PricePath {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new SimulationError(`pathVariant: the index must be a whole number 0 or more, got ${index}`);
  }
  if (!Number.isSafeInteger(seed)) throw new SimulationError(`pathVariant: the seed must be an integer, got ${seed}`);
  if (index === 0) return path;
  if (path.origin === undefined) {
    throw new SimulationError(
      `Path ${path.name} is not a built-in scenario: it has no model to draw variants from; use variant 0 only`,
    );
  }
  const { scenario, options } = path.origin;
  return buildScenario(scenario, { ...options, seed: streamSeed(seed, VARIANT_STREAM + index) });
}
