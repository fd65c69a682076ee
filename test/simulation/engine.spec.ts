import { expect } from "chai";
import { MaxUint256, toQuantity } from "ethers";
import hre from "hardhat";

import { installBlockClock } from "../../lib/simulation/clock";
import {
  BLOCK_SECONDS,
  buildKeepers,
  EXECUTION_GAS,
  kickerOf,
  planExecution,
  RewardCurve,
} from "../../lib/simulation/keepers";
import { PolicyMetrics } from "../../lib/simulation/metrics";
import { policySetup, REACTIVE_POLICY, STATIC_POLICY, volatilityBand } from "../../lib/simulation/policies";
import { buildPopulation, ownerAddress } from "../../lib/simulation/population";
import { buildScenario, flashCrash, Random, streamSeed } from "../../lib/simulation";
import { keeperCandidate, liquidationCandidate, observe, predictedHF, trackVault } from "../../lib/simulation/tracking";
import { LOCAL_PARAMS } from "../../lib/protocol";
import { gasCostBase } from "../../lib/keeper/decide";
import { AUCTION, CALM, ETH, gwei, keeper, localCurve, usd, wad } from "../shared/simulation";

describe("simulation: engine pieces", () => {
  describe("streamSeed", () => {
    it("gives each use of a seed its own sequence, the same every time", () => {
      expect(streamSeed(1, 1)).to.equal(streamSeed(1, 1));
      expect(streamSeed(1, 1)).to.not.equal(streamSeed(1, 2));
      expect(streamSeed(1, 1)).to.not.equal(streamSeed(2, 1));
      expect(streamSeed(1, 1)).to.not.equal(1);
      const draws = (seed: number) =>
        Array.from(
          { length: 3 },
          (
            (r) => () =>
              r.next()
          )(new Random(seed)),
        );
      expect(draws(streamSeed(7, 1))).to.deep.equal(draws(streamSeed(7, 1)));
      expect(() => streamSeed(1.5, 1)).to.throw(/must be integers/);
    });
  });

  describe("population", () => {
    it("draws deposits of 5-20 WETH and HF0 of 1.25-1.65 in hundredths, the same for a seed", () => {
      const a = buildPopulation(200, 3);
      expect(buildPopulation(200, 3)).to.deep.equal(a);
      expect(buildPopulation(200, 4)).to.not.deep.equal(a);
      for (const v of a) {
        expect(v.deposit >= wad("5") && v.deposit <= wad("20")).to.equal(true);
        expect(v.hf0 >= wad("1.25") && v.hf0 <= wad("1.65")).to.equal(true);
        expect(v.deposit % 10n ** 16n).to.equal(0n);
        expect(v.hf0 % 10n ** 16n).to.equal(0n);
        expect(v.owner).to.equal(ownerAddress(v.index));
      }
      expect(new Set(a.map((v) => v.owner)).size).to.equal(200);
      // Both ends of the ranges are drawn.
      expect(a.some((v) => v.hf0 < wad("1.3"))).to.equal(true);
      expect(a.some((v) => v.hf0 > wad("1.6"))).to.equal(true);
      // A larger population starts with the smaller one: --vaults only adds owners.
      expect(buildPopulation(20, 3)).to.deep.equal(a.slice(0, 20));
    });
  });

  describe("keepers", () => {
    it("draws latencies in whole blocks of 12 s (1-10), gas 2-20 gwei and least profit $0-10", () => {
      const ks = buildKeepers(10, 1);
      expect(buildKeepers(10, 1)).to.deep.equal(ks);
      expect(ks.map((k) => k.name)).to.deep.equal(Array.from({ length: 10 }, (_, i) => `keeper-${i + 1}`));
      for (const k of ks) {
        expect(k.latency % BLOCK_SECONDS).to.equal(0);
        expect(k.latency).to.be.within(12, 120);
        expect(k.gasPrice >= gwei("2") && k.gasPrice <= gwei("20")).to.equal(true);
        expect(k.minProfitBase >= 0n && k.minProfitBase <= usd("10")).to.equal(true);
      }
    });

    it("the fastest keeper kicks, the first of them on a tie", () => {
      expect(kickerOf([keeper("a", 36, "5", "1"), keeper("b", 12, "5", "1"), keeper("c", 12, "1", "0")])).to.equal(1);
    });

    it("values an execution's gas at the keeper's price and ETH's", () => {
      // 780,000 gas at 10 gwei is 0.0078 ETH: $15.60 at $2,000.
      expect(gasCostBase(EXECUTION_GAS, gwei("10"), ETH)).to.equal(usd("15.6"));
    });
  });

  describe("RewardCurve", () => {
    it("interpolates between urgency 0 and 1, caps by owner and protocol, and is flat after its last sample", () => {
      const curve = localCurve(150);
      expect(curve.bps(0, 0n, 100)).to.equal(10);
      expect(curve.bps(300, 0n, 100)).to.equal(55);
      expect(curve.bps(305, 0n, 100)).to.equal(55);
      expect(curve.bps(300, wad("0.5"), 100)).to.equal(82);
      expect(curve.bps(300, wad("1"), 500)).to.equal(110);
      expect(curve.bps(600, wad("1"), 500)).to.equal(150);
      expect(curve.bps(6_000, 0n, 100)).to.equal(100);
      expect(curve.bps(600, wad("1"), 100)).to.equal(100);
      expect(curve.flatAfter).to.equal(600);
      expect(() => new RewardCurve([], [], 1)).to.throw(/at least one/);
    });
  });

  describe("planExecution", () => {
    const curve = localCurve();
    const auction = AUCTION;

    it("a keeper that profits at once executes its latency after the kick", () => {
      // 10 bps of $10,000 is $10; gas at 2 gwei is $3.12.
      const plan = planExecution([keeper("a", 24, "2", "1")], curve, auction, 1_000, ETH, CALM);
      expect(plan).to.deep.equal({ at: 1_024, order: [0], pricedOut: [] });
    });

    it("waits for the reward to cover gas and least profit, on the block grid", () => {
      // Gas at 20 gwei is $31.20, plus $5: 37 bps of $10,000, reached 180 s after the kick.
      const plan = planExecution([keeper("a", 12, "20", "5")], curve, auction, 1_000, ETH, CALM);
      expect(plan).to.deep.equal({ at: 1_180, order: [0], pricedOut: [] });
      expect(curve.bps(168, 0n, 100)).to.be.lessThan(37);
    });

    it("the earliest profitable keeper wins; on a tie the faster one", () => {
      const fastDear = keeper("fast", 12, "20", "5");
      const slowCheap = keeper("slow", 60, "2", "0");
      expect(planExecution([fastDear, slowCheap], curve, auction, 1_000, ETH, CALM)).to.deep.equal({
        at: 1_060,
        order: [1],
        pricedOut: [],
      });
      // Later on both profit at once: the faster keeper's transaction lands first.
      expect(planExecution([slowCheap, fastDear], curve, auction, 1_300, ETH, CALM)).to.deep.equal({
        at: 1_300,
        order: [1],
        pricedOut: [],
      });
    });

    it("urgency makes an auction profitable sooner; nobody executes one that never pays", () => {
      const dear = [keeper("a", 12, "20", "5")];
      const urgent = planExecution(dear, curve, { ...auction, urgency: wad("1") }, 1_000, ETH, CALM);
      expect(urgent).to.deep.equal({ at: 1_060, order: [0], pricedOut: [] });
      // $100 at most (1% of $10,000) never covers $300 of least profit.
      expect(planExecution([keeper("a", 12, "2", "300")], curve, auction, 1_000, ETH, CALM).at).to.equal(undefined);
      expect(
        planExecution([keeper("a", 12, "2", "0")], curve, { ...auction, valueBase: 0n }, 1_000, ETH, CALM).at,
      ).to.equal(undefined);
    });
  });

  describe("policies", () => {
    it("static opens at reactive's target (not the owner's HF0) and pauses; reactive and volatility at their target", () => {
      const [spec] = buildPopulation(1, 1);
      const s = policySetup("static", undefined);
      expect([s.paused, s.openHF(spec), s.policy]).to.deep.equal([true, wad("1.5"), STATIC_POLICY]);
      const r = policySetup("reactive", undefined);
      expect([r.paused, r.openHF(spec)]).to.deep.equal([false, wad("1.5")]);
      expect(r.policy).to.deep.equal(REACTIVE_POLICY);
      expect(() => policySetup("volatility", undefined)).to.throw(/needs its band/);
    });

    it("volatility: the band for the warm-up's volatility over the slowest keeper, the deleverage TWAP window and a block", () => {
      // A warm-up as volatile as 1,000% a year: the band is sized from it, above the factory's floor.
      const path = buildScenario("gbm", { steps: 100, vol: 10 });
      const band = volatilityBand(path, [keeper("a", 12, "1", "0"), keeper("b", 96, "1", "0")], 0.99);
      expect(band.horizonSeconds).to.equal(96 + LOCAL_PARAMS.deleverageTwapWindow + BLOCK_SECONDS);
      expect(band.slowestLatency).to.equal(96);
      expect(band.sigmaAnnual).to.be.within(7, 13);
      const v = policySetup("volatility", band);
      expect(v.openHF(buildPopulation(1, 1)[0])).to.equal(band.policy.targetHF);
      expect(band.policy.minHF > LOCAL_PARAMS.bounds.minHFFloor).to.equal(true);
      // The calm warm-up before the flash crash gives the floor: the band cannot see the crash coming.
      expect(volatilityBand(flashCrash({ steps: 100 }), [keeper("a", 12, "1", "0")], 0.99).policy.minHF).to.equal(
        LOCAL_PARAMS.bounds.minHFFloor,
      );
    });
  });

  describe("tracking", () => {
    const [spec] = buildPopulation(1, 1);

    it("predicts the HF in proportion to the WETH price and picks the vaults to read", () => {
      const v = trackVault(spec, ownerAddress(0), REACTIVE_POLICY, true);
      expect(keeperCandidate(v, ETH)).to.equal(false);
      observe(v, wad("1.5"), ETH);
      expect(predictedHF(v, usd("1600"))).to.be.closeTo(1.2, 1e-12);
      expect(keeperCandidate(v, usd("1800"))).to.equal(false);
      expect(keeperCandidate(v, usd("1734"))).to.equal(true);
      expect(keeperCandidate(v, usd("2390"))).to.equal(false);
      expect(keeperCandidate(v, usd("2396"))).to.equal(true);
      expect(liquidationCandidate(v, usd("1340"))).to.equal(false);
      expect(liquidationCandidate(v, usd("1335"))).to.equal(true);
      v.auction = { kickedAt: 1, direction: 1n, kicker: 0, kickRefundBase: 0n };
      expect(keeperCandidate(v, ETH)).to.equal(true);
      const paused = trackVault(spec, ownerAddress(0), STATIC_POLICY, false);
      observe(paused, wad("1.1"), ETH);
      expect(keeperCandidate(paused, ETH)).to.equal(false);
      observe(paused, MaxUint256, ETH);
      expect(predictedHF(paused, ETH)).to.equal(Infinity);
    });
  });

  describe("PolicyMetrics", () => {
    it("turns exact amounts into cents, bps and 12-second blocks", () => {
      const keepers = [keeper("a", 12, "10", "0"), keeper("b", 24, "10", "0")];
      const m = new PolicyMetrics("reactive", keepers);
      m.equityStartBase = usd("1000");
      m.equityEndBase = usd("899.999");
      m.step(0, [1.5, 1.2, Infinity]);
      m.step(60, [1.1, 1.4]);
      m.step(120, [Infinity]);
      m.liquidation(3, 2, usd("12.345"));
      m.rebalance({
        keeper: 1,
        rewardBase: usd("7.5"),
        equityLossBase: usd("9"),
        shortfallBase: usd("1.5"),
        valueSoldBase: usd("3000"),
        responseSeconds: 25,
      });
      m.rebalance({
        keeper: 1,
        rewardBase: usd("2.5"),
        equityLossBase: usd("3"),
        shortfallBase: usd("2"),
        valueSoldBase: usd("1000"),
        responseSeconds: 12,
      });
      m.gas(0, 1_000_000n, ETH);
      m.kick(0);
      m.failure("execute VaultTargetMissed");
      m.guardDelay(3);
      const r = m.result(REACTIVE_POLICY, 1);
      expect(r).to.deep.include({
        band: { minHF: 1.3, targetHF: 1.5, maxHF: 1.8 },
        liquidations: 1,
        liquidationCalls: 2,
        liquidationPenaltyUsd: 12.34,
        equityStartUsd: 1000,
        equityEndUsd: 899.99,
        equityChangePct: -10,
        rebalances: 2,
        rebalanceCostUsd: 12,
        keeperRewardsUsd: 10,
        gasUsed: 1_000_000,
        keeperGasCostUsd: 20,
        slippageMeanBps: 12.5,
        slippageWorstBps: 20,
        worstHF: 1.1,
        responseBlocksMean: 2,
        responseBlocksWorst: 3,
        kicks: 1,
        failures: { "execute VaultTargetMissed": 1 },
        guardDelays: 3,
        outOfBandAtEnd: 1,
      });
      expect(r.keepers.b).to.deep.equal({
        kicks: 0,
        cancels: 0,
        executions: 2,
        rewardsUsd: 10,
        gasUsed: 0,
        gasCostUsd: 0,
        pricedOut: 0,
        lostRaces: 0,
        lostRaceGasUsed: 0,
        downtimeSeconds: 0,
      });
      expect(m.series).to.deep.equal([
        { policy: "reactive", t: 0, hf: 1.2 },
        { policy: "reactive", t: 60, hf: 1.1 },
      ]);
      expect(new PolicyMetrics("static", keepers).result(undefined, 0).band).to.equal(null);
    });
  });

  describe("installBlockClock", () => {
    const provider = hre.network.provider;
    const latest = async (): Promise<number> => {
      const block = await hre.ethers.provider.getBlock("latest");
      if (block === null) throw new Error("no block");
      return block.timestamp;
    };

    it("stamps each transaction one second after the previous block, however long the wall clock took", async () => {
      const [, , , , , , , , , sender] = await hre.ethers.getSigners();
      const clock = installBlockClock(provider);
      try {
        const before = await latest();
        await new Promise((resolve) => setTimeout(resolve, 2_100));
        await (await sender.sendTransaction({ to: sender.address, value: 1n })).wait();
        expect(await latest()).to.equal(before + 1);
        expect(await clock.latest()).to.equal(before + 1);
        // A time the caller set is kept.
        await provider.request({ method: "evm_setNextBlockTimestamp", params: [toQuantity(before + 100)] });
        await (await sender.sendTransaction({ to: sender.address, value: 1n })).wait();
        expect(await latest()).to.equal(before + 100);
        await provider.request({ method: "evm_mine", params: [] });
        await (await sender.sendTransaction({ to: sender.address, value: 1n })).wait();
        expect(await latest()).to.equal(before + 102);
      } finally {
        clock.restore();
      }
      const after = await latest();
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      await (await sender.sendTransaction({ to: sender.address, value: 1n })).wait();
      // Restored: Hardhat's own wall-clock stamping again.
      expect(await latest()).to.be.greaterThan(after + 1);
    });

    it("knows where a pinned evm_mine lands, and counts the writes (transactions, reverts), not the time moves", async () => {
      const [, , , , , , , , , sender] = await hre.ethers.getSigners();
      const clock = installBlockClock(provider);
      try {
        const start = await clock.latest();
        const writes = clock.writes();
        await provider.request({ method: "evm_setNextBlockTimestamp", params: [toQuantity(start + 50)] });
        await provider.request({ method: "evm_mine", params: [] });
        expect([await clock.latest(), await latest()]).to.deep.equal([start + 50, start + 50]);
        expect(clock.writes()).to.equal(writes);
        const snapshot = await provider.request({ method: "evm_snapshot" });
        await (await sender.sendTransaction({ to: sender.address, value: 1n })).wait();
        expect(clock.writes()).to.equal(writes + 1);
        await provider.request({ method: "evm_revert", params: [snapshot] });
        expect(clock.writes()).to.equal(writes + 2);
      } finally {
        clock.restore();
      }
    });
  });
});
