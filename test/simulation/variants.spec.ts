import { expect } from "chai";

import {
  BOOTSTRAP_BLOCK,
  buildScenario,
  parsePricePathCsv,
  pathVariant,
  realizedVolatility,
  scenarioNames,
  SimulationError,
  STEP_SECONDS,
  WARMUP_POINTS,
  type PricePath,
  type PricePoint,
} from "../../lib/simulation";

const json = (value: unknown): string => JSON.stringify(value);
const lowPoint = (points: readonly PricePoint[]): PricePoint => points.reduce((a, b) => (b.price < a.price ? b : a));
const timestamps = (path: PricePath): number[] => [...(path.warmup ?? []), ...path.points].map((p) => p.timestamp);

describe("simulation: Monte Carlo path variants", () => {
  for (const name of scenarioNames) {
    it(`${name}: deterministic for (seed, index), different across indices and seeds, variant 0 the path itself`, () => {
      const base = buildScenario(name, { steps: 300, seed: 3 });
      expect(pathVariant(base, 7, 0)).to.equal(base);
      const one = pathVariant(base, 7, 1);
      expect(json(pathVariant(base, 7, 1))).to.equal(json(one));
      expect(json(one)).to.not.equal(json(base));
      expect(json(pathVariant(base, 7, 2))).to.not.equal(json(one));
      expect(json(pathVariant(base, 8, 1))).to.not.equal(json(one));
      // Same steps, times and start price, warm-up included.
      expect(one.name).to.equal(name);
      expect(one.points).to.have.length(300);
      expect(one.warmup).to.have.length(WARMUP_POINTS);
      expect(timestamps(one)).to.deep.equal(timestamps(base));
      expect(one.points[0].price).to.equal(base.points[0].price);
      expect(one.points[1].timestamp - one.points[0].timestamp).to.equal(STEP_SECONDS);
    });
  }

  it("historical shapes keep the crash: the same low at the same minute, the big legs, a like volatility", () => {
    for (const name of ["black-thursday-2020", "may-2021", "ftx-2022", "oct-2025"] as const) {
      const base = buildScenario(name, { steps: 1_000, historical: true });
      const low = lowPoint(buildScenario(name, { steps: 1_000, historical: true, vol: 0 }).points);
      for (const index of [1, 2, 3]) {
        const variant = pathVariant(base, 11, index);
        const atLow = variant.points.find((p) => p.timestamp === low.timestamp);
        expect(atLow?.price, `${name} #${index}`).to.be.closeTo(low.price, 1e-9);
        expect(lowPoint(variant.points).price / low.price, `${name} #${index}`).to.be.within(0.95, 1);
        const ratio = realizedVolatility(variant) / realizedVolatility(base);
        expect(ratio, `${name} #${index}`).to.be.within(0.7, 1.4);
      }
    }
  });

  it("flash-crash keeps its -29% leg and -42% wick from the calm level of 02:00", () => {
    const base = buildScenario("flash-crash", { steps: 1_000 });
    const t0 = base.points[0].timestamp;
    for (const index of [1, 2, 3]) {
      const variant = pathVariant(base, 11, index);
      const at = (minute: number) => variant.points.find((p) => p.timestamp === t0 + minute * 60)?.price ?? NaN;
      expect(at(140) / at(120)).to.be.closeTo(0.71, 1e-9);
      expect(at(141) / at(120)).to.be.closeTo(0.58, 1e-9);
    }
  });

  it("gbm: fresh draws, not the base path moved", () => {
    const base = buildScenario("gbm", { steps: 2_000, vol: 0.8 });
    const lows = [0, 1, 2, 3].map((i) => lowPoint(pathVariant(base, 5, i).points).timestamp);
    expect(new Set(lows).size).to.be.above(2);
  });

  it("bootstraps a CSV path in blocks of its own rows: returns, gaps and gas kept together; warm-up shared", () => {
    // 100 one-minute rows with a distinct return and gas on each, after 3 rows of warm-up.
    const rows = ["timestamp,price,gasGwei"];
    let price = 2_000;
    for (let i = 0; i < 103; i++) {
      rows.push(`${1_700_000_000 + i * 60},${price.toFixed(6)},${10 + i}`);
      price *= 1 + (i % 7) / 1_000 - 0.003;
    }
    const csv = parsePricePathCsv(`${rows.join("\n")}\n`, "eth.csv", { warmupRows: 3 });
    const steps = csv.points.length - 1;
    const moves = new Map(
      csv.points.slice(1).map((p, i) => [p.gasGwei, Math.log(p.price / csv.points[i].price)] as const),
    );
    const a = pathVariant(csv, 1, 1);
    expect(a).to.deep.equal(pathVariant(csv, 1, 1));
    expect(a.points).to.have.length(csv.points.length);
    expect(a.points[0]).to.deep.equal(csv.points[0]);
    expect(a.warmup).to.deep.equal(csv.warmup);
    // Every drawn row is one of the file's rows (its gas names it), with that row's own return and a minute's gap.
    for (let i = 1; i <= steps; i++) {
      const ret = moves.get(a.points[i].gasGwei);
      if (ret === undefined) throw new Error(`row ${i} is not one of the file's`);
      expect(Math.log(a.points[i].price / a.points[i - 1].price)).to.be.closeTo(ret, 1e-9);
      expect(a.points[i].timestamp - a.points[i - 1].timestamp).to.equal(60);
    }
    // In blocks: consecutive file rows follow each other within a block of BOOTSTRAP_BLOCK.
    const gas = a.points.slice(1).map((p) => p.gasGwei ?? NaN);
    expect(gas.slice(1, BOOTSTRAP_BLOCK).every((g, i) => g === gas[i] + 1)).to.equal(true);
    // Other indices and seeds draw other blocks.
    expect(pathVariant(csv, 1, 2).points).to.not.deep.equal(a.points);
    expect(pathVariant(csv, 2, 1).points).to.not.deep.equal(a.points);
  });

  it("refuses a CSV path too short to bootstrap, and bad indices", () => {
    const csv = parsePricePathCsv("timestamp,price\n1700000000,2000\n1700000060,1990\n", "eth.csv");
    expect(pathVariant(csv, 1, 0)).to.equal(csv);
    expect(() => pathVariant(csv, 1, 1)).to.throw(
      SimulationError,
      "Path eth has 2 rows to replay: a bootstrap needs at least 3",
    );
    const base = buildScenario("gbm", { steps: 10 });
    expect(() => pathVariant(base, 1, -1)).to.throw("pathVariant: the index must be a whole number 0 or more, got -1");
    expect(() => pathVariant(base, 1, 1.5)).to.throw("the index must be a whole number");
    expect(() => pathVariant(base, 0.5, 1)).to.throw("pathVariant: the seed must be an integer, got 0.5");
  });
});
