import { expect } from "chai";

import {
  buildScenario,
  DEFAULT_START_PRICE,
  DEFAULT_STEPS,
  flashCrash,
  gbm,
  GBM_JUMPS,
  realizedVolatility,
  rescalePath,
  SCENARIOS,
  scenarioNames,
  SECONDS_PER_YEAR,
  SimulationError,
  STEP_SECONDS,
  UnknownScenarioError,
  WARMUP_POINTS,
  type PricePath,
  type PricePoint,
} from "../../lib/simulation";

/** JSON text: exact for finite numbers, and much faster than chai's deep equality on long paths. */
const json = (value: unknown): string => JSON.stringify(value);
const expectSame = (a: unknown, b: unknown): void => {
  expect(json(a) === json(b), "the same values").to.equal(true);
};
const prices = (path: PricePath): number[] => path.points.map((p) => p.price);
const min = (path: PricePath): number => Math.min(...prices(path));
const lowPoint = (points: readonly PricePoint[]): PricePoint => points.reduce((a, b) => (b.price < a.price ? b : a));
const utc = (iso: string): number => Date.parse(iso) / 1000;
const HISTORICAL = ["black-thursday-2020", "may-2021", "ftx-2022", "oct-2025"] as const;
const SHAPES = [...HISTORICAL, "flash-crash"] as const;

/** The largest fall of ln(price) over `minutes` on a 1-minute path, as a positive fraction of log-price. */
function worstDrop(points: readonly PricePoint[], minutes: number): number {
  let worst = 0;
  for (let i = minutes; i < points.length; i++)
    worst = Math.max(worst, Math.log(points[i - minutes].price / points[i].price));
  return worst;
}

describe("simulation: scenarios", () => {
  it("registers the six scenarios", () => {
    expect(scenarioNames).to.deep.equal([
      "black-thursday-2020",
      "may-2021",
      "ftx-2022",
      "oct-2025",
      "flash-crash",
      "gbm",
    ]);
    expect(DEFAULT_START_PRICE).to.equal(2_000);
  });

  for (const name of scenarioNames) {
    describe(name, () => {
      it("returns exactly `steps` points a minute apart, positive prices, starting at $2,000, after 24 h of warm-up", () => {
        for (const steps of [2, 3, 50, DEFAULT_STEPS, 1_234, 5_000]) {
          const path = SCENARIOS[name].build({ steps });
          expect(path.name).to.equal(name);
          expect(path.points).to.have.length(steps);
          expect(path.warmup).to.have.length(WARMUP_POINTS);
          expect(path.points[0].price).to.equal(2_000);
          const all = [...(path.warmup ?? []), ...path.points];
          const bad = all.findIndex(
            ({ timestamp, price }, i) =>
              !Number.isSafeInteger(timestamp) ||
              (i > 0 && timestamp - all[i - 1].timestamp !== STEP_SECONDS) ||
              !(Number.isFinite(price) && price > 0),
          );
          expect(bad, `steps ${steps}: bad point`).to.equal(-1);
        }
        expect(SCENARIOS[name].build().points).to.have.length(DEFAULT_STEPS);
      });

      it("is deterministic for a seed and changes with it", () => {
        expectSame(SCENARIOS[name].build({ seed: 5 }), SCENARIOS[name].build({ seed: 5 }));
        expect(json(SCENARIOS[name].build({ seed: 5 }))).to.not.equal(json(SCENARIOS[name].build({ seed: 6 })));
        expectSame(SCENARIOS[name].build(), SCENARIOS[name].build({ seed: 1 }));
      });

      it("rescales to startPrice keeping the relative moves, warm-up included, and shifts to `start`", () => {
        const base = SCENARIOS[name].build();
        const scaled = SCENARIOS[name].build({ startPrice: 500 });
        expect(scaled.points[0].price).to.equal(500);
        const ratios = [...(scaled.warmup ?? []), ...scaled.points].map(
          (p, i) => p.price / [...(base.warmup ?? []), ...base.points][i].price,
        );
        expect(Math.max(...ratios.map((r) => Math.abs(r - 0.25)))).to.be.below(1e-12);
        const shifted = SCENARIOS[name].build({ start: 100_000 });
        expect(shifted.points[0].timestamp).to.equal(100_000);
        expect(shifted.warmup?.[0].timestamp).to.equal(100_000 - WARMUP_POINTS * STEP_SECONDS);
      });

      it("refuses bad options, naming the scenario", () => {
        const build = SCENARIOS[name].build;
        expect(() => build({ steps: 1 })).to.throw(SimulationError, `Scenario ${name}: steps must be a whole number`);
        expect(() => build({ steps: 10.5 })).to.throw(SimulationError, "steps must be a whole number of at least 2");
        expect(() => build({ startPrice: 0 })).to.throw(SimulationError, "startPrice must be a positive number of USD");
        expect(() => build({ vol: -0.1 })).to.throw(SimulationError, "vol must be an annualized volatility >= 0");
        expect(() => build({ seed: 0.5 })).to.throw(SimulationError, "seed must be an integer");
      });
    });
  }

  describe("--steps selects a window of minutes, it does not resample", () => {
    for (const name of SHAPES) {
      it(`${name}: every window contains the event's low; a shorter window is a part of a longer one`, () => {
        const bare = buildScenario(name, { steps: 5_000, vol: 0, historical: true });
        const low = lowPoint(bare.points);
        for (const steps of [2, 10, 300, 3_000, 5_000]) {
          const path = buildScenario(name, { steps, vol: 0, historical: true });
          const [first, last] = [path.points[0].timestamp, path.points[steps - 1].timestamp];
          expect(low.timestamp, `steps ${steps}`).to.be.within(first, last);
          // Two thirds of the window before the low, unless the event's start or end is in the way.
          const before = (low.timestamp - first) / STEP_SECONDS;
          if (first > bare.points[0].timestamp && last < bare.points[4_999].timestamp) {
            expect(before, `steps ${steps}`).to.equal(Math.floor(((steps - 1) * 2) / 3));
          }
        }
        const short = buildScenario(name, { steps: 300, historical: true });
        const long = buildScenario(name, { steps: 3_000, historical: true });
        const byTime = new Map(long.points.map((p) => [p.timestamp, p.price]));
        expect(short.points.every((p) => byTime.get(p.timestamp) === p.price)).to.equal(true);
      });
    }

    it("realized volatility does not fall as 1/√steps", () => {
      // Resampling one event into N points made σ fall by √10 from 300 to 3,000 steps; windows of minutes do not.
      for (const name of ["black-thursday-2020", "gbm"] as const) {
        const ratio =
          realizedVolatility(buildScenario(name, { steps: 300 })) /
          realizedVolatility(buildScenario(name, { steps: 3_000 }));
        expect(ratio, name).to.be.within(0.8, 1.25);
      }
      // Where the crash is short, a short window is mostly crash and a long one mostly not: σ moves with the
      // window's content, yet by less than √10.
      for (const name of SHAPES) {
        const ratio =
          realizedVolatility(buildScenario(name, { steps: 300 })) /
          realizedVolatility(buildScenario(name, { steps: 3_000 }));
        expect(ratio, name).to.be.within(0.4, Math.sqrt(10) * 0.9);
      }
    });

    it("refuses more steps than the event has minutes", () => {
      expect(() => flashCrash({ steps: 5_042 })).to.throw(
        "Scenario flash-crash: 5042 steps do not fit in its 5041 minutes from day 0; use at most 5041",
      );
      expect(flashCrash({ steps: 5_041 }).points).to.have.length(5_041);
    });
  });

  describe("the historical shapes (real USD levels, bare keyframes)", () => {
    const bare = (name: string) => buildScenario(name, { steps: 5_000, historical: true, vol: 0 });

    it("black-thursday-2020: $194 -> $111 at 02:15 UTC on 13 March, in two legs, closing in the $120s-130s", () => {
      const path = bare("black-thursday-2020");
      expect(path.points[0]).to.deep.equal({ timestamp: utc("2020-03-12T00:00:00Z"), price: 194 });
      const low = lowPoint(path.points);
      expect(low.timestamp).to.equal(utc("2020-03-13T02:15:00Z"));
      expect(low.price).to.be.closeTo(111, 1e-9);
      // The first leg: -18% in 45 minutes from 10:00 UTC on the 12th.
      const at = (iso: string) => path.points.find((p) => p.timestamp === utc(iso))?.price ?? NaN;
      expect(at("2020-03-12T10:45:00Z") / at("2020-03-12T10:00:00Z")).to.be.closeTo(150 / 182, 1e-9);
      expect(path.points[path.points.length - 1].price).to.be.within(120, 139);
    });

    it("may-2021: $3,400 -> $1,890 at 13:22 UTC, back to $2,700 within three hours", () => {
      const path = bare("may-2021");
      const low = lowPoint(path.points);
      expect(low.timestamp).to.equal(utc("2021-05-19T13:22:00Z"));
      expect(low.price).to.be.closeTo(1_890, 1e-9);
      const after = path.points.filter(
        (p) => p.timestamp > utc("2021-05-19T13:22:00Z") && p.timestamp <= utc("2021-05-19T16:30:00Z"),
      );
      expect(Math.max(...after.map((p) => p.price))).to.be.closeTo(2_700, 1e-6);
    });

    it("ftx-2022: $1,570 -> $1,100 late on 9 November, then ~$1,300 after the CPI print", () => {
      const path = bare("ftx-2022");
      const low = lowPoint(path.points);
      expect(low.timestamp).to.equal(utc("2022-11-09T23:00:00Z"));
      expect(low.price).to.be.closeTo(1_100, 1e-9);
      expect(path.points[path.points.length - 1].price).to.be.within(1_250, 1_330);
    });

    it("oct-2025: $4,390 -> $3,435 at 21:20 UTC, -14% in the 30 minutes from 20:50", () => {
      const path = bare("oct-2025");
      const low = lowPoint(path.points);
      expect(low.timestamp).to.equal(utc("2025-10-10T21:20:00Z"));
      expect(low.price).to.be.closeTo(3_435, 1e-9);
      expect(Math.max(...prices(path).slice(0, 24 * 60))).to.be.closeTo(4_390, 1e-6);
      expect(1 - 3_435 / 3_990).to.be.closeTo(0.14, 0.005);
      expect(Math.exp(-worstDrop(path.points, 30))).to.be.closeTo(3_435 / 3_990, 1e-9);
    });

    it("the minute model keeps the keyframes' lows; vol 0 is the bare interpolation", () => {
      for (const name of HISTORICAL) {
        const noisy = buildScenario(name, { steps: 300, historical: true });
        const flat = buildScenario(name, { steps: 300, historical: true, vol: 0 });
        const low = lowPoint(flat.points);
        expect(noisy.points.find((p) => p.timestamp === low.timestamp)?.price, name).to.be.closeTo(low.price, 1e-9);
        expect(min(noisy) / low.price, name).to.be.within(0.97, 1);
      }
    });

    it("refuses startPrice with historical", () => {
      expect(() => buildScenario("may-2021", { historical: true, startPrice: 10 })).to.throw(
        "Scenario may-2021: pass either startPrice or historical, not both",
      );
    });
  });

  describe("intra-hour moves: a keeper an hour late meets a worse price than one 12 s late", () => {
    it("black-thursday-2020: the largest 10-minute drop is over twice the hourly-joined path's, five times the old shape's", () => {
      const path = buildScenario("black-thursday-2020", { steps: 5_000 });
      const minute = worstDrop(path.points, 10);
      // The same path seen hourly, joined by straight lines in log-price: what the old hourly shapes replayed.
      const hourly = path.points.filter((_, i) => i % 60 === 0);
      const joined = path.points.slice(0, (hourly.length - 1) * 60 + 1).map((p, i) => {
        const [a, b] = [hourly[Math.floor(i / 60)], hourly[Math.min(Math.floor(i / 60) + 1, hourly.length - 1)]];
        const w = (i % 60) / 60;
        return { timestamp: p.timestamp, price: Math.exp((1 - w) * Math.log(a.price) + w * Math.log(b.price)) };
      });
      expect(minute).to.be.above(0.05);
      expect(minute).to.be.above(2 * worstDrop(joined, 10));
      // The old hourly keyframes' steepest segment, 168 -> 150 from 12:00 to 14:00 UTC, a sixth of it in 10 minutes.
      expect(minute).to.be.above(5 * (Math.log(168 / 150) / 12));
    });

    it("every historical shape falls by percents within 10 minutes somewhere", () => {
      const least = { "black-thursday-2020": 0.05, "may-2021": 0.05, "ftx-2022": 0.02, "oct-2025": 0.05 };
      for (const name of HISTORICAL) {
        expect(worstDrop(buildScenario(name, { steps: 3_000 }).points, 10), name).to.be.above(least[name]);
      }
    });
  });

  it("flash-crash: -29% in 20 minutes after two calm hours, a wick to -42%, then a grind lower", () => {
    const path = flashCrash({ vol: 0, steps: 5_000 });
    const t0 = path.points[0].timestamp;
    const at = (minutes: number) => path.points.find((p) => p.timestamp === t0 + minutes * 60)?.price ?? NaN;
    expect(at(0)).to.equal(2_000);
    expect(at(120)).to.be.closeTo(2_000, 1e-9);
    expect(at(140)).to.be.closeTo(1_420, 1e-9);
    expect(at(141)).to.be.closeTo(1_160, 1e-9);
    expect(min(path)).to.be.closeTo(1_160, 1e-9);
    expect(at(24 * 60 + 120)).to.be.closeTo(1_260, 1e-9);
    expect(at(24 * 60 + 120)).to.be.below(at(150));
  });

  it("gbm: points `interval` apart, realized volatility that of the diffusion and the jumps", () => {
    const path = gbm({ steps: 100_000, vol: 0.8, seed: 3 });
    expect(path.points[1].timestamp - path.points[0].timestamp).to.equal(60);
    expect(path.warmup?.[WARMUP_POINTS - 1].timestamp).to.equal(path.points[0].timestamp - 60);
    const jumpVariance = GBM_JUMPS.perDay * 365 * (GBM_JUMPS.mean ** 2 + GBM_JUMPS.sd ** 2);
    expect(realizedVolatility(path)).to.be.closeTo(Math.sqrt(0.8 ** 2 + jumpVariance), 0.03);
    // A fifth of the variance scale: the jumps scale with vol.
    expect(realizedVolatility(gbm({ steps: 100_000, vol: 0.4, seed: 3 }))).to.be.closeTo(
      Math.sqrt(0.4 ** 2 + jumpVariance / 4),
      0.02,
    );
    expect(gbm({ interval: 12 }).points[1].timestamp - gbm().points[0].timestamp).to.equal(12);
    expect(gbm({ vol: 0 }).points.every((p) => p.price === 2_000)).to.equal(true);
    expect(() => gbm({ interval: 0 })).to.throw("Scenario gbm: interval must be a whole number of seconds > 0, got 0");
    expect(SECONDS_PER_YEAR).to.equal(365 * 86_400);
  });

  it("an unknown name is refused with the list of valid ones", () => {
    expect(() => buildScenario("luna-2022")).to.throw(
      UnknownScenarioError,
      'Unknown scenario "luna-2022": use one of black-thursday-2020, may-2021, ftx-2022, oct-2025, flash-crash, gbm',
    );
    expect(() => buildScenario("toString")).to.throw(UnknownScenarioError);
    expectSame(buildScenario("gbm", { seed: 9 }), gbm({ seed: 9 }));
  });

  it("rescalePath keeps the relative moves, the gas and the warm-up, and makes the first price exact", () => {
    const path: PricePath = {
      name: "x",
      points: [1, 3, 0.5].map((price, i) => ({ timestamp: i + 10, price: price * 0.1, gasGwei: i + 1 })),
      warmup: [{ timestamp: 0, price: 0.2 }],
    };
    const scaled = rescalePath(path, 2_000);
    expect(scaled.points[0].price).to.equal(2_000);
    expect(scaled.points[1].price).to.be.closeTo(6_000, 1e-9);
    expect(scaled.points[2].price).to.be.closeTo(1_000, 1e-9);
    expect(scaled.points.map((p) => [p.timestamp, p.gasGwei])).to.deep.equal([
      [10, 1],
      [11, 2],
      [12, 3],
    ]);
    expect(scaled.warmup).to.deep.equal([{ timestamp: 0, price: 4_000 }]);
  });
});
