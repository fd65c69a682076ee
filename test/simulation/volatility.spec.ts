import { expect } from "chai";
import { parseUnits } from "ethers";

import { DEFAULT_POLICY, LOCAL_PARAMS, policyValues } from "../../lib/protocol";
import { BLOCK_SECONDS, type KeeperProfile } from "../../lib/simulation/keepers";
import { volatilityBand } from "../../lib/simulation/policies";
import {
  buildScenario,
  EWMA_HALF_LIFE_SECONDS,
  gbm,
  GBM_JUMPS,
  inverseNormalCdf,
  pastVolatility,
  PolicyBoundsError,
  realizedVolatility,
  scenarioNames,
  warmupVolatility,
  recommendMinHF,
  recommendPolicy,
  SECONDS_PER_YEAR,
  SimulationError,
  type PricePath,
  type PricePoint,
} from "../../lib/simulation";

const hf = (value: string): bigint => parseUnits(value, 18);
const band = (min: string, target: string, max: string) => ({
  ...policyValues(DEFAULT_POLICY),
  minHF: hf(min),
  targetHF: hf(target),
  maxHF: hf(max),
});
const bounds = LOCAL_PARAMS.bounds;

/** A path whose every log return is sigma·√Δt, Δt in years: its realized volatility is exactly sigma. */
function pathWithVol(sigma: number, deltas: number[]): PricePath {
  const points = [{ timestamp: 1_000, price: 2_000 }];
  deltas.forEach((dt, i) => {
    const prev = points[points.length - 1];
    const r = (i % 2 === 0 ? 1 : -1) * sigma * Math.sqrt(dt / SECONDS_PER_YEAR);
    points.push({ timestamp: prev.timestamp + dt, price: prev.price * Math.exp(r) });
  });
  return { name: "test", points };
}

describe("simulation: volatility and the recommended band", () => {
  describe("inverseNormalCdf (Acklam)", () => {
    it("matches the known quantiles to 1e-6", () => {
      const known: [number, number][] = [
        [0.5, 0],
        [0.975, 1.959964],
        [0.99, 2.326348],
        [0.999, 3.090232],
        [0.9, 1.281552],
        [0.75, 0.67449],
        [0.02, -2.053749],
        [1e-6, -4.753424],
      ];
      for (const [p, z] of known) expect(inverseNormalCdf(p), `p = ${p}`).to.be.closeTo(z, 1e-6);
    });

    it("is odd around 0.5 and increasing, in both tails and across the region boundaries", () => {
      let previous = -Infinity;
      // 2^-40: 1 - p is exact in binary, so the symmetry check is not spoiled by rounding.
      for (const p of [2 ** -40, 1e-4, 0.0242, 0.02425, 0.0243, 0.3, 0.5, 0.7, 0.97575, 0.9758, 0.9999, 1 - 2 ** -40]) {
        const z = inverseNormalCdf(p);
        expect(z, `p = ${p}`).to.be.greaterThan(previous);
        expect(inverseNormalCdf(1 - p) + z, `p = ${p}`).to.be.closeTo(0, 1e-6);
        previous = z;
      }
    });

    it("refuses p outside (0, 1)", () => {
      for (const p of [0, 1, -0.1, 1.5, NaN]) {
        expect(() => inverseNormalCdf(p)).to.throw(SimulationError, "p must be strictly between 0 and 1");
      }
    });
  });

  describe("realizedVolatility", () => {
    it("annualizes with the actual time deltas", () => {
      expect(realizedVolatility(pathWithVol(0.8, Array(100).fill(60)))).to.be.closeTo(0.8, 1e-12);
      // Uneven sampling: 12 s blocks, hourly gaps and a day-long hole give the same answer.
      expect(realizedVolatility(pathWithVol(1.3, [12, 12, 3_600, 86_400, 12, 600, 7]))).to.be.closeTo(1.3, 1e-12);
      // gbm's jumps add their variance, scaled by (vol / 0.8)².
      const jumps = GBM_JUMPS.perDay * 365 * (GBM_JUMPS.mean ** 2 + GBM_JUMPS.sd ** 2) * (0.5 / 0.8) ** 2;
      expect(realizedVolatility(gbm({ steps: 10_000, vol: 0.5, interval: 300, seed: 11 }))).to.be.closeTo(
        Math.sqrt(0.25 + jumps),
        0.015,
      );
      const flat = { name: "flat", points: [0, 60, 120].map((timestamp) => ({ timestamp, price: 5 })) };
      expect(realizedVolatility(flat)).to.equal(0);
    });

    it("refuses a path it cannot measure", () => {
      const one = { name: "one", points: [{ timestamp: 1, price: 1 }] };
      expect(() => realizedVolatility(one)).to.throw(SimulationError, "Path one: at least 2 points are needed");
      const back = { name: "back", points: [2, 1].map((timestamp) => ({ timestamp, price: 1 })) };
      expect(() => realizedVolatility(back)).to.throw("Path back: timestamps must increase (point 1: 1)");
      const zero = { name: "zero", points: [1, 2].map((timestamp) => ({ timestamp, price: timestamp - 1 })) };
      expect(() => realizedVolatility(zero)).to.throw("Path zero: prices must be positive");
    });
  });

  describe("pastVolatility (EWMA of past returns)", () => {
    it("is exact on returns of constant size per √Δt, whatever the sampling", () => {
      expect(pastVolatility(pathWithVol(0.8, Array(100).fill(60)).points, "p")).to.be.closeTo(0.8, 1e-12);
      expect(pastVolatility(pathWithVol(1.3, [12, 12, 3_600, 86_400, 12, 600, 7]).points, "p")).to.be.closeTo(
        1.3,
        1e-12,
      );
    });

    it("weighs recent returns more: a return's weight halves every EWMA_HALF_LIFE_SECONDS of age", () => {
      // Quiet (0.2) then busy (1.0), each for one half-life at 1-minute steps: the forecast leans to the busy part.
      const minutes = EWMA_HALF_LIFE_SECONDS / 60;
      const quiet = pathWithVol(0.2, Array(minutes).fill(60)).points;
      const busy = pathWithVol(1.0, Array(minutes).fill(60)).points;
      const last = quiet[quiet.length - 1];
      const joined = [
        ...quiet,
        ...busy.slice(1).map((p) => ({ timestamp: p.timestamp - busy[0].timestamp + last.timestamp, price: p.price })),
      ];
      // Weights about 1/3 (older half-life) and 2/3 (recent): σ² ≈ (0.04 + 2·1)/3.
      expect(pastVolatility(joined, "p")).to.be.closeTo(Math.sqrt((0.04 + 2) / 3), 0.01);
      expect(realizedVolatility({ name: "p", points: joined })).to.be.closeTo(Math.sqrt((0.04 + 1) / 2), 0.01);
    });

    it("does not depend on the sampling step: 1-minute and 5-minute samples of a path agree", () => {
      const every = (points: readonly PricePoint[], n: number) => points.filter((_, i) => i % n === 0);
      // A long GBM: within 8%; a count-based estimate would differ by √5.
      const long = gbm({ steps: 20_000, vol: 0.8, seed: 4 }).points;
      const one = pastVolatility(long, "gbm");
      expect(pastVolatility(every(long, 5), "gbm") / one).to.be.within(0.92, 1.08);
      // Every built-in warm-up (24 h, fat-tailed jumps, so fewer effective returns): within 25%.
      for (const name of scenarioNames) {
        const warmup = buildScenario(name).warmup ?? [];
        const ratio = pastVolatility(every(warmup, 5), name) / pastVolatility(warmup, name);
        expect(ratio, name).to.be.within(0.75, 1.25);
      }
    });

    it("warmupVolatility measures the warm-up only, and refuses a path without one", () => {
      const path = buildScenario("flash-crash");
      expect(warmupVolatility(path)).to.equal(pastVolatility(path.warmup ?? [], "flash-crash"));
      // The crash is in the replay, not in the warm-up: the forecast is far below the replay's realized volatility.
      expect(warmupVolatility(path)).to.be.below(realizedVolatility(path) / 3);
      const bare = { name: "bare", points: path.points };
      expect(() => warmupVolatility(bare)).to.throw(
        SimulationError,
        "Path bare has no warm-up: a volatility sized before the replay needs at least 2 points before it " +
          "(for a CSV file, its first rows as warm-up)",
      );
      expect(() => warmupVolatility({ ...bare, warmup: [path.points[0]] })).to.throw(
        "Path bare has 1 point of warm-up",
      );
    });
  });

  describe("volatilityBand (the volatility policy)", () => {
    const keepers: KeeperProfile[] = [12, 96, 36].map((latency, i) => ({
      name: `k${i}`,
      latency,
      gasPrice: 1n,
      minProfitBase: 0n,
      tip: 1n,
      maxFee: 1n,
    }));

    it("is sized from the warm-up alone: another replay gives the same band", () => {
      const path = buildScenario("black-thursday-2020", { steps: 300 });
      const band = volatilityBand(path, keepers, 0.99);
      expect(band.sigmaAnnual).to.equal(warmupVolatility(path));
      const calm = { ...path, points: path.points.map((p) => ({ ...p, price: 2_000 })) };
      const crash = { ...path, points: path.points.map((p, i) => ({ ...p, price: 2_000 * 0.999 ** i })) };
      expect(volatilityBand(calm, keepers, 0.99)).to.deep.equal(band);
      expect(volatilityBand(crash, keepers, 0.99)).to.deep.equal(band);
      // A different warm-up does change it.
      const busier = { ...path, warmup: pathWithVol(20, Array(1_439).fill(60)).points };
      expect(volatilityBand(busier, keepers, 0.99).policy.minHF > band.policy.minHF).to.equal(true);
    });

    it("looks over the slowest keeper's latency, the deleverage TWAP window and one block for inclusion", () => {
      const band = volatilityBand(buildScenario("gbm"), keepers, 0.99);
      expect(band.slowestLatency).to.equal(96);
      expect(band.horizonSeconds).to.equal(96 + LOCAL_PARAMS.deleverageTwapWindow + BLOCK_SECONDS);
      expect(band.policy).to.deep.equal(
        recommendPolicy({ sigmaAnnual: band.sigmaAnnual, horizonSeconds: 168, survival: 0.99, bounds }),
      );
    });

    it("refuses a path without warm-up", () => {
      const path = { name: "eth", points: buildScenario("gbm").points };
      expect(() => volatilityBand(path, keepers, 0.99)).to.throw(SimulationError, "Path eth has no warm-up");
    });
  });

  describe("recommendMinHF", () => {
    it("is exp(z·σ·√h), h in years", () => {
      const expected = Math.exp(2.326348 * 0.8 * Math.sqrt(900 / (365 * 86_400)));
      expect(recommendMinHF({ sigmaAnnual: 0.8, horizonSeconds: 900, survival: 0.99 })).to.be.closeTo(expected, 1e-8);
      expect(recommendMinHF({ sigmaAnnual: 0.8, horizonSeconds: 900, survival: 0.99 })).to.be.closeTo(1.0099, 1e-4);
      expect(recommendMinHF({ sigmaAnnual: 1, horizonSeconds: SECONDS_PER_YEAR, survival: 0.975 })).to.be.closeTo(
        Math.exp(1.959964),
        1e-5,
      );
      expect(recommendMinHF({ sigmaAnnual: 0, horizonSeconds: 900, survival: 0.99 })).to.equal(1);
    });

    it("grows with the volatility, the horizon and the survival probability", () => {
      const base = { sigmaAnnual: 0.8, horizonSeconds: 900, survival: 0.99 };
      const at = recommendMinHF(base);
      expect(recommendMinHF({ ...base, sigmaAnnual: 1.2 })).to.be.greaterThan(at);
      expect(recommendMinHF({ ...base, horizonSeconds: 3_600 })).to.be.greaterThan(at);
      expect(recommendMinHF({ ...base, survival: 0.999 })).to.be.greaterThan(at);
    });

    it("refuses inputs that make no sense, saying what is expected", () => {
      const base = { sigmaAnnual: 0.8, horizonSeconds: 900, survival: 0.99 };
      expect(() => recommendMinHF({ ...base, survival: 0.5 })).to.throw(
        SimulationError,
        "The survival probability must be above 0.5 and below 1, like 0.99, got 0.5",
      );
      expect(() => recommendMinHF({ ...base, survival: 1 })).to.throw("survival probability must be above 0.5");
      expect(() => recommendMinHF({ ...base, sigmaAnnual: -1 })).to.throw("annualized number >= 0 like 0.8, got -1");
      expect(() => recommendMinHF({ ...base, sigmaAnnual: Infinity })).to.throw("The volatility must be");
      expect(() => recommendMinHF({ ...base, horizonSeconds: 0 })).to.throw(
        "The horizon must be a number of seconds > 0, got 0",
      );
    });
  });

  describe("recommendPolicy", () => {
    it("calm markets get the tightest band the bounds allow: floor, floor + gap, floor + 2 gaps", () => {
      expect(recommendPolicy({ sigmaAnnual: 0.8, horizonSeconds: 900, survival: 0.99, bounds })).to.deep.equal(
        band("1.05", "1.10", "1.15"),
      );
      expect(recommendPolicy({ sigmaAnnual: 0, horizonSeconds: 900, survival: 0.99, bounds })).to.deep.equal(
        band("1.05", "1.10", "1.15"),
      );
    });

    it("multiplies each level by the quantile move, rounding up to 0.01", () => {
      // m = exp(2.326348 · 1.5 · √(1/365)) = 1.2004: minHF 1.21, target ⌈1.21 m⌉ = 1.46, maxHF ⌈1.46 m⌉ = 1.76.
      expect(recommendPolicy({ sigmaAnnual: 1.5, horizonSeconds: 86_400, survival: 0.99, bounds })).to.deep.equal(
        band("1.21", "1.46", "1.76"),
      );
    });

    it("takes a wider gap, but not one below the protocol's", () => {
      const input = { sigmaAnnual: 0.8, horizonSeconds: 900, survival: 0.99, bounds };
      expect(recommendPolicy({ ...input, gap: hf("0.2") })).to.deep.equal(band("1.05", "1.25", "1.45"));
      expect(recommendPolicy({ ...input, gap: hf("0.123") })).to.deep.equal(band("1.05", "1.18", "1.31"));
      expect(() => recommendPolicy({ ...input, gap: hf("0.01") })).to.throw(
        SimulationError,
        "The band gap 0.01 is below the protocol's minimum 0.05",
      );
    });

    it("caps maxHF at the ceiling, and refuses a band whose target does not fit under it", () => {
      // m = 2.0001: minHF 2.01, target 4.03; maxHF would be 8.07.
      expect(recommendPolicy({ sigmaAnnual: 1, horizonSeconds: 2_800_000, survival: 0.99, bounds })).to.deep.equal(
        band("2.01", "4.03", "5"),
      );
      expect(() => recommendPolicy({ sigmaAnnual: 3, horizonSeconds: 7 * 86_400, survival: 0.999, bounds })).to.throw(
        PolicyBoundsError,
        "The band for volatility 3, a 604800 s horizon and survival 0.999 needs minHF 3.62 and targetHF 13.08, so " +
          "maxHF at least 13.13: above the protocol ceiling 5.00; lower the survival probability or the horizon",
      );
    });

    it("always returns a band the factory accepts, at or above the unrounded minHF", () => {
      const cent = 10n ** 16n;
      for (const sigmaAnnual of [0, 0.3, 0.8, 1.5, 3]) {
        for (const horizonSeconds of [12, 900, 3_600, 86_400]) {
          for (const survival of [0.9, 0.99, 0.999]) {
            const input = { sigmaAnnual, horizonSeconds, survival };
            const p = recommendPolicy({ ...input, bounds });
            const what = JSON.stringify(input);
            expect(p.minHF >= bounds.minHFFloor, what).to.equal(true);
            expect(p.targetHF >= p.minHF + bounds.minBandGap, what).to.equal(true);
            expect(p.maxHF >= p.targetHF + bounds.minBandGap, what).to.equal(true);
            expect(p.maxHF <= bounds.maxHFCeiling, what).to.equal(true);
            expect(
              [p.minHF, p.targetHF, p.maxHF].every((v) => v % cent === 0n),
              what,
            ).to.equal(true);
            expect(Number(p.minHF) / 1e18 >= recommendMinHF(input), what).to.equal(true);
          }
        }
      }
    });
  });
});
