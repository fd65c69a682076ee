import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";

import { CurveKind, DEFAULT_POLICY, LOCAL_PARAMS } from "../../lib/protocol";
import {
  RebalanceMathHarness__factory,
  RewardCurveHarness__factory,
  type IKeeperAuction,
  type RebalanceMathHarness,
  type RewardCurveHarness,
} from "../../typechain-types";
import { fuzzParameters, logBigInt, weighted } from "../shared/fuzz";
import { kickedVaultFixture } from "../shared/keeper";
import { urgency } from "../shared/reference/rebalanceMath";
import { BPS, rewardBps, timeCurve, WAD, type CurveConfig } from "../shared/reference/rewardCurve";

/** CI runs of each pure property, and of the one that kicks a real auction. */
const RUNS = 150;
const AUCTION_RUNS = 20;

/** `KeeperAuction`'s hard limits on a config, and the factory's on the protocol cap. */
const HARD_MAX_REWARD_BPS = 1_000n;
const HARD_MAX_URGENCY_BOOST_BPS = 10_000n;
const HARD_MIN_DURATION = 60n;
const HARD_MAX_DURATION = 86_400n;
const HARD_MAX_KEEPER_REWARD_BPS = 1_000n;
const MAX_UINT256 = (1n << 256n) - 1n;
const MIN_HF = BigInt(DEFAULT_POLICY.minHF);

interface Fixture {
  curve: RewardCurveHarness;
  math: RebalanceMathHarness;
}

async function harnessFixture(): Promise<Fixture> {
  const [deployer] = await ethers.getSigners();
  return {
    curve: await new RewardCurveHarness__factory(deployer).deploy(),
    math: await new RebalanceMathHarness__factory(deployer).deploy(),
  };
}

/** Any curve `KeeperAuction.setConfig` accepts, of each of the three kinds. */
const curveArb: fc.Arbitrary<CurveConfig> = fc
  .record({
    kind: fc.constantFrom(CurveKind.Linear, CurveKind.Stairstep, CurveKind.Exponential),
    maxBps: fc.bigInt({ min: 1n, max: HARD_MAX_REWARD_BPS }),
    startPpm: weighted(
      [1, fc.constant(0n)],
      [1, fc.constant(1_000_000n)],
      [8, fc.bigInt({ min: 0n, max: 1_000_000n })],
    ),
    urgencyBoostBps: weighted([1, fc.constant(0n)], [9, fc.bigInt({ min: 0n, max: HARD_MAX_URGENCY_BOOST_BPS })]),
    duration: fc.bigInt({ min: HARD_MIN_DURATION, max: HARD_MAX_DURATION }),
    stepPpm: fc.bigInt({ min: 1n, max: 1_000_000n }),
  })
  .map(({ kind, maxBps, startPpm, urgencyBoostBps, duration, stepPpm }) => {
    const start = (maxBps * startPpm) / 1_000_000n;
    return {
      kind,
      // The auction refuses an Exponential curve from 0.
      startBps: kind === CurveKind.Exponential && start === 0n ? 1n : start,
      maxBps,
      urgencyBoostBps,
      duration,
      step: kind === CurveKind.Stairstep ? 1n + ((duration - 1n) * stepPpm) / 1_000_000n : 0n,
    };
  });

/** Seconds since the kick: mostly within the first twenty durations, sometimes anything a uint256 holds. */
const elapsedArb = weighted([8, fc.bigInt({ min: 0n, max: 20n * HARD_MAX_DURATION })], [1, logBigInt(0n, MAX_UINT256)]);
const urgencyArb = weighted([2, fc.constant(0n)], [1, fc.constant(WAD)], [7, fc.bigInt({ min: 0n, max: WAD })]);

const OWNER_CAP_LIMIT = BigInt(LOCAL_PARAMS.bounds.maxKeeperRewardBpsCap);
/** The owner's and the protocol's caps: often small, so the curve meets them; often within 2 bps of each other. */
const capsArb: fc.Arbitrary<[bigint, bigint]> = weighted(
  [1, fc.bigInt({ min: 0n, max: 50n })],
  [2, fc.bigInt({ min: 0n, max: OWNER_CAP_LIMIT })],
).chain((owner) =>
  fc.tuple(
    fc.constant(owner),
    weighted(
      [1, fc.bigInt({ min: owner < 2n ? 0n : owner - 2n, max: owner + 2n })],
      [2, fc.bigInt({ min: 0n, max: HARD_MAX_KEEPER_REWARD_BPS })],
    ),
  ),
);

const struct = (c: CurveConfig): IKeeperAuction.ConfigStruct => ({ ...c, minHFMove: 0n, minDebtBase: 0n });
const label = (...values: unknown[]): string =>
  JSON.stringify(values, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

describe("RewardCurve properties", function () {
  let f: Fixture;

  beforeEach(async function () {
    f = await loadFixture(harnessFixture);
  });

  it("rewardBps and timeCurve equal the reference for Linear, Stairstep and Exponential curves", async function () {
    await fc.assert(
      fc.asyncProperty(curveArb, elapsedArb, urgencyArb, async (c, elapsed, u) => {
        const [timed, reward] = [
          await f.curve.timeCurve(struct(c), elapsed),
          await f.curve.rewardBps(struct(c), elapsed, u),
        ];
        expect([timed, reward], label(c, elapsed, u)).to.deep.equal([timeCurve(c, elapsed), rewardBps(c, elapsed, u)]);
      }),
      fuzzParameters(RUNS),
    );
  });

  it("is monotone non-decreasing in time, from startBps at the kick, and bounded by maxBps and the boost", async function () {
    await fc.assert(
      fc.asyncProperty(curveArb, elapsedArb, elapsedArb, urgencyArb, async (c, a, b, u) => {
        const [early, late] = a < b ? [a, b] : [b, a];
        const at = async (t: bigint) => ({
          timed: await f.curve.timeCurve(struct(c), t),
          reward: await f.curve.rewardBps(struct(c), t, u),
        });
        const [e, l, kick] = [await at(early), await at(late), await at(0n)];
        const why = label(c, early, late, u, e, l);
        expect(kick.timed, why).to.equal(c.startBps);
        expect(c.startBps <= e.timed && e.timed <= l.timed && l.timed <= c.maxBps, why).to.equal(true);
        expect(e.reward <= l.reward, why).to.equal(true);
        // The boost adds at most urgencyBoostBps of the time curve, at urgency 1.
        for (const { timed, reward } of [e, l]) {
          expect(timed <= reward && reward * BPS <= timed * (BPS + c.urgencyBoostBps), why).to.equal(true);
        }
      }),
      fuzzParameters(RUNS),
    );
  });

  it("the urgency boost grows as the HF falls toward 1.0: none at minHF and above, all of it at 1.0 and below", async function () {
    const hfArb = weighted(
      [8, fc.bigInt({ min: WAD / 2n, max: (MIN_HF * 3n) / 2n })],
      [1, fc.constantFrom(WAD, MIN_HF, MIN_HF - 1n, WAD + 1n)],
    );
    await fc.assert(
      fc.asyncProperty(curveArb, elapsedArb, hfArb, hfArb, async (c, elapsed, a, b) => {
        const [high, low] = a > b ? [a, b] : [b, a];
        const reward = async (hf: bigint) => f.curve.rewardBps(struct(c), elapsed, await f.math.urgency(hf, MIN_HF));
        const [rHigh, rLow] = [await reward(high), await reward(low)];
        const timed = timeCurve(c, elapsed);
        const why = label(c, elapsed, high, rHigh, low, rLow);
        expect(rLow >= rHigh, why).to.equal(true);
        expect(rHigh).to.equal(rewardBps(c, elapsed, urgency(high, MIN_HF)));
        if (high >= MIN_HF) expect(rHigh, why).to.equal(timed);
        if (low <= WAD) expect(rLow, why).to.equal(timed + (timed * c.urgencyBoostBps) / BPS);
      }),
      fuzzParameters(RUNS),
    );
  });

  it("a kicked auction's reward is the curve capped by the owner's maxKeeperRewardBps and the protocol cap", async function () {
    await fc.assert(
      fc.asyncProperty(
        curveArb,
        capsArb,
        fc.integer({ min: 1, max: 3 * Number(HARD_MAX_DURATION) }),
        async (c, [ownerCap, protocolCap], seconds) => {
          const k = await loadFixture(kickedVaultFixture);
          await (await k.auction.connect(k.governance).setConfig({ ...LOCAL_PARAMS.auction, ...c })).wait();
          await (await k.vault.setPolicy({ ...DEFAULT_POLICY, maxKeeperRewardBps: ownerCap })).wait();
          await (
            await k.factory
              .connect(k.governance)
              .setPolicyBounds({ ...LOCAL_PARAMS.bounds, maxKeeperRewardBpsCap: protocolCap })
          ).wait();
          // Read on the pending block, whose timestamp is pinned.
          const timestamp = (await time.latest()) + seconds;
          await time.setNextBlockTimestamp(timestamp);
          const pending = { blockTag: "pending" };
          const bps = await k.auction.currentRewardBps(k.vault, pending);
          const hf = (await k.vault.position(pending)).healthFactor;
          const { kickedAt } = await k.auction.auctionOf(k.vault);
          const curve = rewardBps(c, BigInt(timestamp) - kickedAt, hf < MIN_HF ? urgency(hf, MIN_HF) : 0n);
          const why = label(c, ownerCap, protocolCap, seconds, hf, curve);
          expect(bps <= ownerCap && bps <= protocolCap, why).to.equal(true);
          expect(bps, why).to.equal(min(min(curve, ownerCap), protocolCap));
        },
      ),
      fuzzParameters(AUCTION_RUNS),
    );
  });
});
