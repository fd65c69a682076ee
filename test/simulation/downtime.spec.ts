import { expect } from "chai";
import hre from "hardhat";

import {
  AVAILABILITY,
  downSeconds,
  drawDowntime,
  isDown,
  OUTAGE_SECONDS,
  upFrom,
  worstHour,
} from "../../lib/simulation/downtime";
import { KeeperFleet, type FleetContext } from "../../lib/simulation/automation";
import { runSimulation, type SimulationOptions } from "../../lib/simulation/engine";
import { buildKeepers } from "../../lib/simulation/keepers";
import { pathAt } from "../../lib/simulation/montecarlo";
import { PolicyMetrics } from "../../lib/simulation/metrics";
import { blackThursday2020, flashCrash } from "../../lib/simulation/scenarios";

const HOUR = 3_600;

describe("simulation: downtime stress", () => {
  const path = blackThursday2020({ steps: 300 });
  const span = path.points[path.points.length - 1].timestamp - path.points[0].timestamp;

  it("draws are deterministic for a seed and path index; another path index or seed draws afresh", () => {
    const a = drawDowntime(path, 5, { seed: 1 });
    expect(drawDowntime(path, 5, { seed: 1, pathIndex: 0 })).to.deep.equal(a);
    expect(drawDowntime(path, 5, { seed: 1, pathIndex: 1 }).keepers).to.not.deep.equal(a.keepers);
    expect(drawDowntime(path, 5, { seed: 2 }).keepers).to.not.deep.equal(a.keepers);
    // The first keepers' draws do not depend on how many keepers there are.
    expect(drawDowntime(path, 3, { seed: 1 }).keepers).to.deep.equal(a.keepers.slice(0, 3));
  });

  it("each keeper is up 90-99% of the span, down in outages of up to an hour that add up to the rest", () => {
    for (let pathIndex = 0; pathIndex < 5; pathIndex++) {
      const plan = drawDowntime(path, 4, { seed: 7, pathIndex, correlated: false });
      for (const [k, d] of plan.keepers.entries()) {
        expect(d.availability).to.be.within(AVAILABILITY.min, AVAILABILITY.max);
        const lengths = d.outages.map((o) => o.end - o.start);
        expect(lengths.reduce((x, y) => x + y, 0)).to.equal(Math.round((1 - d.availability) * span));
        for (const l of lengths) expect(l).to.be.within(1, OUTAGE_SECONDS.max);
        // All but the last (the remainder) are at least a minute.
        expect(lengths.filter((l) => l < OUTAGE_SECONDS.min).length).to.be.at.most(1);
        for (const o of d.outages) expect(o.start >= 0 && o.end <= span).to.equal(true);
        // Overlaps make the union no longer than the sum.
        expect(downSeconds(plan, k, span)).to.be.at.most(Math.round((1 - d.availability) * span));
        expect(downSeconds(plan, k, span)).to.be.greaterThan(0);
      }
    }
  });

  it("the worst hour is the one with the steepest drop: the flash crash's minutes", () => {
    const flash = flashCrash({ steps: 300 });
    const t0 = flash.points[0].timestamp;
    const w = worstHour(flash);
    expect(w.end - w.start).to.equal(HOUR);
    // The point just before the path's lowest is inside the window.
    const low = flash.points.reduce((a, p) => (p.price < a.price ? p : a));
    expect(low.timestamp - t0).to.be.within(w.start, w.end);
    // No other hour-long window starting at a point drops more.
    const dropFrom = (i: number) => {
      const start = flash.points[i];
      const inside = flash.points.filter(
        (p) => p.timestamp >= start.timestamp && p.timestamp - start.timestamp <= HOUR,
      );
      return 1 - Math.min(...inside.map((p) => p.price)) / start.price;
    };
    const best = flash.points.findIndex((p) => p.timestamp - t0 === w.start);
    for (let i = 0; i < flash.points.length; i++) expect(dropFrom(i)).to.be.at.most(dropFrom(best));
  });

  it("on a path shorter than an hour the worst hour is clipped to it, and so is every keeper's downtime", () => {
    const short = blackThursday2020({ steps: 60 });
    const shortSpan = short.points[short.points.length - 1].timestamp - short.points[0].timestamp;
    expect(shortSpan).to.be.lessThan(HOUR);
    const plan = drawDowntime(short, 3, { seed: 1 });
    expect(plan.worstHour.end).to.equal(shortSpan);
    for (let k = 0; k < 3; k++) {
      expect(downSeconds(plan, k, shortSpan)).to.be.at.least(plan.worstHour.end - plan.worstHour.start);
      expect(downSeconds(plan, k, shortSpan)).to.be.at.most(shortSpan);
    }
  });

  it("with the correlated outage every keeper is down through the worst hour; without it, only by its own draws", () => {
    const on = drawDowntime(path, 4, { seed: 3 });
    const off = drawDowntime(path, 4, { seed: 3, correlated: false });
    expect(on.correlated).to.equal(true);
    expect(on.keepers).to.deep.equal(off.keepers);
    const w = on.worstHour;
    expect(w).to.deep.equal(worstHour(path));
    for (let k = 0; k < 4; k++) {
      for (let t = w.start; t < w.end; t += 60) expect(isDown(on, k, t), `keeper ${k} at ${t}`).to.equal(true);
      expect(upFrom(on, k, w.start)).to.be.at.least(w.end);
      expect(downSeconds(on, k, span)).to.be.at.least(HOUR);
      expect(downSeconds(on, k, span)).to.be.greaterThan(downSeconds(off, k, span));
    }
    // Without it some keeper is up at some time in that hour.
    const upSomewhere = [0, 1, 2, 3].some((k) => {
      for (let t = w.start; t < w.end; t += 60) if (!isDown(off, k, t)) return true;
      return false;
    });
    expect(upSomewhere).to.equal(true);
  });

  it("upFrom moves past overlapping outages; a keeper that is up is up now", () => {
    const plan = {
      keepers: [
        {
          availability: 0.9,
          outages: [
            { start: 100, end: 200 },
            { start: 150, end: 400 },
          ],
        },
      ],
      worstHour: { start: 390, end: 500 },
      correlated: true,
    };
    expect(upFrom(plan, 0, 50)).to.equal(50);
    expect(upFrom(plan, 0, 120)).to.equal(500);
    expect(downSeconds(plan, 0, 1_000)).to.equal(400);
    expect(upFrom({ ...plan, correlated: false }, 0, 120)).to.equal(400);
  });

  it("the fleet applies the plan in chain time from the path's start, and the gas stress's fees", () => {
    const keepers = buildKeepers(3, 1);
    const plan = drawDowntime(path, 3, { seed: 1 });
    let base: bigint | undefined = 50n * 10n ** 9n;
    const ctx = {
      auctions: [{ interface: undefined }],
      keepers,
      minDebtBase: 0n,
      gasStress: true,
      clock: { baseFee: () => base },
    } as unknown as FleetContext;
    const fleet = new KeeperFleet(ctx);
    const metrics = new PolicyMetrics("reactive", keepers);
    const start = 1_000_000;
    fleet.begin(start, span, metrics, plan);
    const env = (
      fleet as unknown as { env(): { upFrom(k: number, t: number): number; fees(k: number): unknown } }
    ).env();
    const w = plan.worstHour;
    for (let k = 0; k < 3; k++) {
      expect(env.upFrom(k, start + w.start)).to.be.at.least(start + w.end);
      expect(env.fees(k)).to.deep.equal({ baseFee: base, tip: keepers[k].tip, maxFee: keepers[k].maxFee });
    }
    const result = metrics.result(undefined, 0);
    expect(result.correlatedOutage).to.equal(true);
    expect(result.keepers["keeper-1"].downtimeSeconds).to.equal(downSeconds(plan, 0, span));
    // Without a base fee on the clock (or without gas stress) keepers use their constant gas prices.
    base = undefined;
    expect((fleet as unknown as { env(): { fees(k: number): unknown } }).env().fees(0)).to.equal(undefined);
  });

  describe("a run with downtime stress", function () {
    this.timeout(600_000);

    it("reports each keeper's seconds down, the correlated outage, and the draws follow the path index", async () => {
      // Two hours (119 minutes): long enough for the correlated hour to fit inside the path (on a path shorter than
      // an hour it is clipped to the path, and keepers would be down for nearly all of it).
      const twoHours = blackThursday2020({ steps: 120 });
      const runSpan = twoHours.points[twoHours.points.length - 1].timestamp - twoHours.points[0].timestamp;
      const options: SimulationOptions = {
        path: twoHours,
        source: "scenario",
        policies: ["reactive"],
        vaults: 4,
        keepers: 3,
        seed: 1,
        survival: 0.99,
        stress: new Set(["downtime"]),
        // Only the third path (index 2) of three: a variant of the scenario, with its own draws.
        paths: 3,
        shard: { index: 3, count: 3 },
      };
      const outcome = await runSimulation(hre, options);
      expect(outcome.shard.runs.map((run) => run.path)).to.deep.equal([2]);
      const r = outcome.shard.runs[0].policies.reactive;
      if (r === undefined) throw new Error("no reactive result");
      expect(r.correlatedOutage).to.equal(true);
      const plan = drawDowntime(pathAt(twoHours, 1, 2), 3, { seed: 1, pathIndex: 2 });
      expect(plan.worstHour.end - plan.worstHour.start).to.equal(HOUR);
      expect(plan.worstHour.end).to.be.at.most(runSpan);
      const names = ["keeper-1", "keeper-2", "keeper-3"];
      names.forEach((name, k) => {
        expect(r.keepers[name].downtimeSeconds).to.equal(downSeconds(plan, k, runSpan));
        expect(r.keepers[name].downtimeSeconds).to.be.at.least(HOUR);
      });
      // No gas stress: nothing priced out, no races sent.
      expect(r.pricedOut).to.equal(0);
      expect(r.baseFeeGweiMax).to.equal(null);

      // --outage independent: the same path and draws, without the shared worst hour.
      const apart = await runSimulation(hre, { ...options, correlatedOutage: false });
      const i = apart.shard.runs[0].policies.reactive;
      if (i === undefined) throw new Error("no reactive result");
      expect(i.correlatedOutage).to.equal(false);
      expect(apart.shard.header.outage).to.equal("independent");
      expect(outcome.shard.header.outage).to.equal("correlated");
      const own = drawDowntime(pathAt(twoHours, 1, 2), 3, { seed: 1, pathIndex: 2, correlated: false });
      names.forEach((name, k) => {
        expect(i.keepers[name].downtimeSeconds).to.equal(downSeconds(own, k, runSpan));
        expect(i.keepers[name].downtimeSeconds).to.be.below(r.keepers[name].downtimeSeconds);
      });
    });
  });
});
