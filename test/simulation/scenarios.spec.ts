import { expect } from "chai";

import {
  buildScenario,
  DEFAULT_START_PRICE,
  DEFAULT_STEPS,
  flashCrash,
  gbm,
  realizedVolatility,
  rescalePath,
  SCENARIOS,
  scenarioNames,
  SimulationError,
  UnknownScenarioError,
  type PricePath,
} from "../../lib/simulation";

/** JSON text: exact for finite numbers, and much faster than chai's deep equality on long paths. */
const json = (value: unknown): string => JSON.stringify(value);
const expectSame = (a: unknown, b: unknown): void => {
  expect(json(a) === json(b), "the same values").to.equal(true);
};
const prices = (path: PricePath): number[] => path.points.map((p) => p.price);
const min = (path: PricePath): number => Math.min(...prices(path));
const last = (path: PricePath): number => path.points[path.points.length - 1].price;
const hoursToLow = (path: PricePath): number => {
  const low = path.points.reduce((a, b) => (b.price < a.price ? b : a));
  return (low.timestamp - path.points[0].timestamp) / 3_600;
};

describe("simulation: scenarios", () => {
  it("registers the five scenarios", () => {
    expect(scenarioNames).to.deep.equal(["black-thursday-2020", "may-2021", "ftx-2022", "flash-crash", "gbm"]);
    expect(DEFAULT_START_PRICE).to.equal(2_000);
  });

  for (const name of scenarioNames) {
    describe(name, () => {
      it("returns exactly `steps` points, whole increasing timestamps, positive prices, starting at $2,000", () => {
        for (const steps of [2, 3, 50, DEFAULT_STEPS, 1_234]) {
          const path = SCENARIOS[name].build({ steps });
          expect(path.name).to.equal(name);
          expect(path.points).to.have.length(steps);
          expect(path.points[0].price).to.equal(2_000);
          const bad = path.points.findIndex(
            ({ timestamp, price }, i) =>
              !Number.isSafeInteger(timestamp) ||
              (i > 0 && timestamp <= path.points[i - 1].timestamp) ||
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

      it("rescales to startPrice keeping the relative moves, and shifts to `start`", () => {
        const base = SCENARIOS[name].build();
        const scaled = SCENARIOS[name].build({ startPrice: 500 });
        expect(scaled.points[0].price).to.equal(500);
        const ratios = scaled.points.map((p, i) => p.price / base.points[i].price);
        expect(Math.max(...ratios.map((r) => Math.abs(r - 0.25)))).to.be.below(1e-12);
        const shifted = SCENARIOS[name].build({ start: 1_000 });
        expect(shifted.points[0].timestamp).to.equal(1_000);
        expectSame(
          shifted.points.map((p) => p.timestamp - 1_000),
          base.points.map((p) => p.timestamp - base.points[0].timestamp),
        );
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

  describe("the historical shapes (real USD levels, no noise)", () => {
    it("black-thursday-2020: $194 -> ~$111 within 30 h, closing in the $130s", () => {
      const path = buildScenario("black-thursday-2020", { historical: true, vol: 0 });
      expect(path.points[0]).to.deep.equal({ timestamp: Date.UTC(2020, 2, 12) / 1000, price: 194 });
      expect(min(path)).to.be.closeTo(111, 1);
      expect(hoursToLow(path)).to.be.within(24, 30);
      expect(last(path)).to.be.within(130, 139);
    });

    it("may-2021: $3,400 -> ~$1,900 intraday, back to $2,400-2,700", () => {
      const path = buildScenario("may-2021", { historical: true, vol: 0 });
      expect(path.points[0].price).to.equal(3_400);
      expect(min(path)).to.be.within(1_880, 1_950);
      expect(hoursToLow(path)).to.be.within(13, 14);
      expect(last(path)).to.be.within(2_400, 2_700);
      expect(Math.max(...prices(path).slice(prices(path).indexOf(min(path))))).to.be.within(2_650, 2_750);
    });

    it("ftx-2022: $1,570 -> ~$1,100 over two days, then $1,250-1,330", () => {
      const path = buildScenario("ftx-2022", { historical: true, vol: 0 });
      expect(path.points[0].price).to.equal(1_570);
      expect(min(path)).to.be.closeTo(1_100, 5);
      expect(hoursToLow(path)).to.be.within(68, 72);
      expect(last(path)).to.be.within(1_250, 1_330);
    });

    it("the noise keeps the keyframes' lows and ends", () => {
      for (const name of ["black-thursday-2020", "may-2021", "ftx-2022"] as const) {
        const bare = buildScenario(name, { vol: 0 });
        const noisy = buildScenario(name);
        expect(min(noisy) / min(bare), name).to.be.closeTo(1, 0.02);
        expect(last(noisy)).to.equal(last(bare));
        expectSame(
          noisy.points.map((p) => p.timestamp),
          bare.points.map((p) => p.timestamp),
        );
      }
    });

    it("refuses startPrice with historical", () => {
      expect(() => buildScenario("may-2021", { historical: true, startPrice: 10 })).to.throw(
        "Scenario may-2021: pass either startPrice or historical, not both",
      );
    });
  });

  it("flash-crash: -30% within six minutes after half an hour, then a recovery", () => {
    const path = flashCrash({ vol: 0, steps: 1_081 }); // a point every 10 s
    const t0 = path.points[0].timestamp;
    const at = (minutes: number) => path.points.find((p) => p.timestamp === t0 + minutes * 60)?.price;
    expect(at(30)).to.equal(2_000);
    expect(at(36)).to.be.closeTo(1_400, 1e-9);
    expect(min(path)).to.be.closeTo(1_400, 1e-9);
    expect(last(path)).to.be.closeTo(1_840, 1e-9);
    expect(() => flashCrash({ steps: 10_802 })).to.throw(
      "Scenario flash-crash: 10802 steps do not fit in its 10800 seconds at one point per second or more; use at most 10801",
    );
  });

  it("gbm: points `interval` apart, realized volatility close to `vol`", () => {
    const path = gbm({ steps: 20_000, vol: 0.8, interval: 60, seed: 3 });
    expect(path.points[1].timestamp - path.points[0].timestamp).to.equal(60);
    expect(path.points[19_999].timestamp - path.points[0].timestamp).to.equal(19_999 * 60);
    expect(realizedVolatility(path)).to.be.closeTo(0.8, 0.02);
    expect(gbm({ interval: 12 }).points[1].timestamp - gbm().points[0].timestamp).to.equal(12);
    expect(gbm({ vol: 0 }).points.every((p) => p.price === 2_000)).to.equal(true);
    expect(() => gbm({ interval: 0 })).to.throw("Scenario gbm: interval must be a whole number of seconds > 0, got 0");
  });

  it("an unknown name is refused with the list of valid ones", () => {
    expect(() => buildScenario("luna-2022")).to.throw(
      UnknownScenarioError,
      'Unknown scenario "luna-2022": use one of black-thursday-2020, may-2021, ftx-2022, flash-crash, gbm',
    );
    expect(() => buildScenario("toString")).to.throw(UnknownScenarioError);
    expectSame(buildScenario("gbm", { seed: 9 }), gbm({ seed: 9 }));
  });

  it("rescalePath keeps the relative moves and makes the first price exact", () => {
    const path = { name: "x", points: [1, 3, 0.5].map((price, i) => ({ timestamp: i, price: price * 0.1 })) };
    const scaled = rescalePath(path, 2_000);
    expect(scaled.points[0].price).to.equal(2_000);
    expect(scaled.points[1].price).to.be.closeTo(6_000, 1e-9);
    expect(scaled.points[2].price).to.be.closeTo(1_000, 1e-9);
    expect(scaled.points.map((p) => p.timestamp)).to.deep.equal([0, 1, 2]);
  });
});
