/**
 * STAND-IN, to be replaced at integration: `pathVariant(path, seed, index)` belongs to lib/simulation/variants.ts
 * (another branch). The Monte Carlo imports it from here only (lib/simulation/montecarlo.ts, `pathAt`); once
 * variants.ts is merged, delete this file and import `pathVariant` from "./variants" there.
 *
 * What it does meanwhile: the path's relative moves with a seeded Brownian bridge laid over them in log-price (zero
 * at the first and last point), of annualized volatility half the path's own realized volatility. Timestamps are
 * kept; the first price stays the market's start price. Deterministic for (path, seed, index).
 */
import { Random, streamSeed } from "./random";
import { SECONDS_PER_YEAR, type PricePath } from "./scenarios";
import { realizedVolatility } from "./volatility";

/** A stream of `streamSeed` no other use of the seed takes. */
const VARIANT_STREAM = 0x5a17;

export function pathVariant(path: PricePath, seed: number, index: number): PricePath {
  const points = path.points;
  const random = new Random(streamSeed(streamSeed(seed, VARIANT_STREAM), index));
  const vol = realizedVolatility(path) / 2;
  const walk = [0];
  for (let i = 1; i < points.length; i++) {
    const dt = (points[i].timestamp - points[i - 1].timestamp) / SECONDS_PER_YEAR;
    walk.push(walk[i - 1] + vol * Math.sqrt(dt) * random.normal());
  }
  const span = points[points.length - 1].timestamp - points[0].timestamp;
  const last = walk[walk.length - 1];
  return {
    name: path.name,
    points: points.map((p, i) => ({
      ...p,
      price: i === 0 ? p.price : p.price * Math.exp(walk[i] - ((p.timestamp - points[0].timestamp) / span) * last),
    })),
  };
}
