import { expect } from "chai";
import { MaxUint256 } from "ethers";

import {
  assessExecution,
  batches,
  decideVault,
  effectiveGasPrice,
  feesFor,
  firstPayingElapsed,
  gasRewardBase,
  rewardGasPrice,
  gasCostBase,
  pricedOut,
  raceOrder,
  type VaultView,
} from "../../lib/keeper/decide";
import { firstAcceptedHint, saleHints } from "../../lib/keeper/hints";
import {
  BLOCK_SECONDS,
  buildKeepers,
  EXECUTION_GAS,
  executorShare,
  kickPays,
  MAX_FEE_GWEI,
  planExecution,
  planKick,
  RewardCurve,
  TIP_GWEI,
  type KeeperEnvironment,
  type KeeperProfile,
} from "../../lib/simulation/keepers";
import { AUCTION, CALM, ETH, gwei, keeper, localCurve, usd, wad } from "../shared/simulation";

/** Gas stress at a base fee, everybody up. */
const atBaseFee = (keepers: readonly KeeperProfile[], base: bigint): KeeperEnvironment => ({
  fees: (k) => ({ baseFee: base, tip: keepers[k].tip, maxFee: keepers[k].maxFee }),
  upFrom: (_k, t) => t,
});

describe("lib/keeper: the keeper's decisions, shared by keeper:run and the simulation", () => {
  describe("decideVault", () => {
    const rules = { minDebtBase: usd("1000"), cancel: true };
    const view = (over: Partial<VaultView>): VaultView => ({
      needed: true,
      wanted: "deleverage",
      debtBase: usd("5000"),
      auctionRunning: false,
      ...over,
    });

    it("kicks a vault out of band without an auction, unless it is dust", () => {
      expect(decideVault(view({}), rules)).to.deep.equal({ kind: "kick", direction: "deleverage" });
      expect(decideVault(view({ wanted: "leverage" }), rules)).to.deep.equal({ kind: "kick", direction: "leverage" });
      expect(decideVault(view({ debtBase: usd("999.99") }), rules)).to.deep.equal({ kind: "dust" });
    });

    it("prices the execution of a running auction the vault still needs", () => {
      const running = view({ auctionRunning: true, auctionDirection: "deleverage" });
      expect(decideVault(running, rules)).to.deep.equal({ kind: "execute" });
    });

    it("cancels and kicks again an auction running the other way", () => {
      const wrongWay = view({ auctionRunning: true, auctionDirection: "leverage" });
      expect(decideVault(wrongWay, rules)).to.deep.equal({ kind: "cancel", rekick: "deleverage" });
    });

    it("cancels the auction of a vault back in band, unless cancelling is off; leaves alone one without", () => {
      const back = view({ needed: false, auctionRunning: true, auctionDirection: "deleverage" });
      expect(decideVault(back, rules)).to.deep.equal({ kind: "cancel" });
      expect(decideVault(back, { ...rules, cancel: false })).to.deep.equal({ kind: "cancel-skipped" });
      expect(decideVault(view({ needed: false }), rules)).to.deep.equal({ kind: "none" });
    });
  });

  describe("fees", () => {
    it("twice the base fee plus the tip, capped but never below base + tip", () => {
      expect(feesFor(gwei("10"), gwei("1"))).to.deep.equal({ baseFee: gwei("10"), tip: gwei("1"), maxFee: gwei("21") });
      expect(feesFor(gwei("10"), gwei("1"), gwei("15")).maxFee).to.equal(gwei("15"));
      expect(feesFor(gwei("10"), gwei("1"), gwei("5")).maxFee).to.equal(gwei("11"));
    });

    it("pays base fee + tip up to the max fee; a max fee below the base fee is priced out", () => {
      expect(effectiveGasPrice({ baseFee: gwei("50"), tip: gwei("2"), maxFee: gwei("100") })).to.equal(gwei("52"));
      expect(effectiveGasPrice({ baseFee: gwei("99"), tip: gwei("2"), maxFee: gwei("100") })).to.equal(gwei("100"));
      expect(pricedOut({ baseFee: gwei("100"), tip: gwei("2"), maxFee: gwei("100") })).to.equal(false);
      expect(pricedOut({ baseFee: gwei("100.1"), tip: gwei("2"), maxFee: gwei("100") })).to.equal(true);
    });
  });

  describe("assessExecution", () => {
    // 50 bps of $10,000 is $50; 780,000 gas at 10 gwei and $2,000 is $15.60.
    const base = {
      valueSoldBase: usd("10000"),
      rewardBps: 50n,
      gas: EXECUTION_GAS,
      gasPrice: gwei("10"),
      nativePriceBase: ETH,
      minProfitBase: usd("5"),
    };

    it("values reward, gas and profit, and pays above the least profit", () => {
      expect(gasCostBase(EXECUTION_GAS, gwei("10"), ETH)).to.equal(usd("15.6"));
      expect(assessExecution(base)).to.deep.equal({
        rewardBase: usd("50"),
        gasCostBase: usd("15.6"),
        profitBase: usd("34.4"),
        pays: true,
      });
    });

    it("a profit at or below the least profit does not pay; nor does a zero reward", () => {
      expect(assessExecution({ ...base, minProfitBase: usd("34.4") })).to.include({
        pays: false,
        reason: "unprofitable",
      });
      expect(assessExecution({ ...base, minProfitBase: usd("34.39") }).pays).to.equal(true);
      expect(assessExecution({ ...base, rewardBps: 0n })).to.include({ pays: false, reason: "no-reward" });
    });

    it("gas at a crash's base fee eats a capped reward: 1% of $10,000 against 200 gwei", () => {
      // 780,000 gas at 201 gwei is 0.15678 ETH, $313.56: more than the owner's 1% cap pays.
      const crash = { ...base, rewardBps: 100n, gasPrice: gwei("201"), minProfitBase: 0n };
      expect(assessExecution(crash)).to.include({ pays: false, reason: "unprofitable" });
      expect(assessExecution({ ...crash, gasPrice: gwei("16") }).pays).to.equal(true);
    });

    it("with the auction's gas part the crash pays: units x (base fee + bounded tip), clamped to maxRewardBase", () => {
      // The on-chain formula: 800,000 units at 200 gwei + min(5, 2) gwei tip, at $2,000: $323.20.
      const price = rewardGasPrice(gwei("200"), gwei("5"), gwei("2"), gwei("2000"));
      expect(price).to.equal(gwei("202"));
      expect(rewardGasPrice(gwei("200"), gwei("1"), gwei("2"), gwei("150"))).to.equal(gwei("150"));
      const gasPart = gasRewardBase(800_000n, price, ETH, usd("5000"));
      expect(gasPart).to.equal(usd("323.2"));
      expect(gasRewardBase(800_000n, price, ETH, usd("100"))).to.equal(usd("100"));
      const crash = { ...base, rewardBps: 100n, gasPrice: gwei("201"), minProfitBase: 0n };
      const paid = assessExecution({ ...crash, gasRewardBase: gasPart, maxRewardBase: usd("5000") });
      expect(paid).to.include({ rewardBase: usd("100") + usd("323.2"), pays: true });
      // The owner's absolute cap clamps premium plus gas part.
      expect(assessExecution({ ...crash, gasRewardBase: gasPart, maxRewardBase: usd("300") })).to.include({
        rewardBase: usd("300"),
        pays: false,
        reason: "unprofitable",
      });
      // A gas part alone (the owner's premium cap at 0) is a reward.
      expect(assessExecution({ ...crash, rewardBps: 0n, gasRewardBase: gasPart }).reason).to.not.equal("no-reward");
    });

    it("firstPayingElapsed: the first block where the reward pays, on the grid, or none by the curve's end", () => {
      const curve = localCurve();
      const at = (e: number) => BigInt(curve.bps(e, 0n, 100));
      const inputs = { ...base, minProfitBase: usd("5"), gasPrice: gwei("20") };
      // Gas $31.20 + $5: more than 36.2 bps of $10,000, reached at 180 s.
      expect(firstPayingElapsed(at, inputs, 0, curve.flatAfter, BLOCK_SECONDS)).to.equal(180);
      expect(firstPayingElapsed(at, inputs, 190, curve.flatAfter, BLOCK_SECONDS)).to.equal(192);
      expect(firstPayingElapsed(at, { ...inputs, minProfitBase: usd("100") }, 0, 600, BLOCK_SECONDS)).to.equal(
        undefined,
      );
    });
  });

  describe("batches and races", () => {
    it("most profitable first, in batches of at most batchSize; alone when batching is off or only one pays", () => {
      const e = (id: string, profit: string) => ({ id, profitBase: usd(profit) });
      const list = [e("a", "1"), e("b", "9"), e("c", "5"), e("d", "7"), e("e", "3")];
      const ids = (groups: { id: string }[][]) => groups.map((g) => g.map((x) => x.id));
      expect(ids(batches(list, 2))).to.deep.equal([["b", "d"], ["c", "e"], ["a"]]);
      expect(ids(batches(list, 20))).to.deep.equal([["b", "d", "c", "e", "a"]]);
      expect(ids(batches(list, 1))).to.deep.equal([["b"], ["d"], ["c"], ["e"], ["a"]]);
      expect(ids(batches([e("x", "1")], 5))).to.deep.equal([["x"]]);
    });

    it("a race goes to the higher tip, then the faster keeper, then the lower index", () => {
      expect(
        raceOrder([
          { index: 0, tip: gwei("1"), latency: 12 },
          { index: 1, tip: gwei("3"), latency: 60 },
          { index: 2, tip: gwei("1"), latency: 12 },
          { index: 3, tip: gwei("1"), latency: 24 },
        ]),
      ).to.deep.equal([1, 0, 2, 3]);
    });
  });
});

describe("simulation keepers: the shared rules with latency, downtime and a base fee around them", () => {
  const curve = localCurve();
  const auction = AUCTION;

  it("draws a tip of 1-3 gwei and a max fee of 80-400 gwei from their own stream", () => {
    const ks = buildKeepers(20, 1);
    for (const k of ks) {
      expect(k.tip >= gwei(String(TIP_GWEI.min)) && k.tip <= gwei(String(TIP_GWEI.max))).to.equal(true);
      expect(k.maxFee >= gwei(String(MAX_FEE_GWEI.min)) && k.maxFee <= gwei(String(MAX_FEE_GWEI.max))).to.equal(true);
    }
    // The fee draws leave the profiles of before as they were (seed 1: 12 s, 19.2 gwei, $3.37).
    expect(ks[0]).to.include({ latency: 12, gasPrice: gwei("19.2"), minProfitBase: usd("3.37") });
  });

  it("--keeper-max-fee moves only the max fees into its range: every other draw is the seed's", () => {
    const ks = buildKeepers(20, 1);
    const wide = buildKeepers(20, 1, { min: 2_000, max: 2_000 });
    for (const [i, k] of wide.entries()) {
      expect(k.maxFee).to.equal(gwei("2000"));
      expect({ ...k, maxFee: 0n }).to.deep.equal({ ...ks[i], maxFee: 0n });
    }
    const ranged = buildKeepers(20, 1, { min: 500, max: 600 });
    for (const k of ranged) expect(k.maxFee >= gwei("500") && k.maxFee <= gwei("600")).to.equal(true);
  });

  it("under gas stress, a keeper whose max fee is below the base fee sends nothing; the others price at base + tip", () => {
    const cheap = keeper("cheap", 12, "1", "0", "2", "80");
    const rich = keeper("rich", 24, "1", "0", "1", "300");
    // On $30,000 sold, 1% is $300: above 780,000 gas at 101 gwei ($157.56).
    const big = { ...auction, valueBase: usd("30000") };
    const plan = planExecution([cheap, rich], curve, big, 1_000, ETH, atBaseFee([cheap, rich], gwei("100")));
    expect(plan.pricedOut).to.deep.equal([0]);
    expect(plan.order).to.deep.equal([1]);
    // 780,000 gas at 101 gwei is $157.56: the owner's 1% ($100) never covers it.
    const dear = planExecution([rich], curve, auction, 1_000, ETH, atBaseFee([rich], gwei("100")));
    expect(dear.at).to.equal(undefined);
    // At 20 gwei + 1 it pays from 33 bps ($33 > $32.76), 156 s after the kick; later than at a constant 1 gwei.
    const calm = planExecution([rich], curve, auction, 1_000, ETH, atBaseFee([rich], gwei("20")));
    expect(calm).to.deep.equal({ at: 1_156, order: [0], pricedOut: [] });
    expect(planExecution([rich], curve, auction, 1_000, ETH, CALM).at).to.equal(1_024);
  });

  it("keepers due in the same block race under gas stress, the higher tip first; without it only the winner sends", () => {
    const a = keeper("a", 24, "1", "0", "1", "300");
    const b = keeper("b", 24, "1", "0", "3", "300");
    const c = keeper("c", 60, "1", "0", "2", "300");
    const stressed = planExecution([a, b, c], curve, auction, 1_120, ETH, atBaseFee([a, b, c], gwei("5")));
    expect(stressed).to.deep.equal({ at: 1_120, order: [1, 2, 0], pricedOut: [] });
    expect(planExecution([a, b, c], curve, auction, 1_120, ETH, CALM)).to.deep.equal({
      at: 1_120,
      order: [0],
      pricedOut: [],
    });
  });

  it("a keeper that is down acts when it is back; the reward it would have taken goes to one that is up", () => {
    const fast = keeper("fast", 12, "1", "0");
    const slow = keeper("slow", 60, "1", "0");
    const fastDown: KeeperEnvironment = { fees: () => undefined, upFrom: (k, t) => (k === 0 && t < 1_500 ? 1_500 : t) };
    expect(planExecution([fast, slow], curve, auction, 1_000, ETH, fastDown)).to.deep.equal({
      at: 1_060,
      order: [1],
      pricedOut: [],
    });
    const allDown: KeeperEnvironment = { fees: () => undefined, upFrom: (_k, t) => Math.max(t, 1_996) };
    expect(planExecution([fast, slow], curve, auction, 1_000, ETH, allDown).at).to.equal(1_996);
  });

  it("planKick: the fastest keeper that is up, not priced out and willing kicks, its latency after the excursion", () => {
    const ks = [keeper("a", 12, "1", "0", "1", "80"), keeper("b", 24, "1", "0"), keeper("c", 36, "1", "0")];
    expect(planKick(ks, 1_000, CALM, () => true)).to.deep.equal({ keeper: 0, at: 1_012, pricedOut: [] });
    expect(planKick(ks, 1_000, atBaseFee(ks, gwei("90")), () => true)).to.deep.equal({
      keeper: 1,
      at: 1_024,
      pricedOut: [0],
    });
    const bDown: KeeperEnvironment = { fees: () => undefined, upFrom: (k, t) => (k === 1 ? 5_000 : t) };
    expect(planKick(ks, 1_000, bDown, (k) => k !== 0)).to.deep.equal({ keeper: 2, at: 1_036, pricedOut: [] });
    expect(planKick(ks, 1_000, CALM, () => false)).to.deep.equal({ pricedOut: [] });
  });

  it("kickPays: no kick when the owner's reward cap cannot cover the gas at the base fee", () => {
    const k = keeper("k", 12, "1", "0", "1", "400");
    const view = {
      valueBase: usd("10000"),
      urgency: wad("1"),
      ownerCap: 100,
      maxGasPrice: 0n,
      maxRewardBase: usd("1000000"),
    };
    const fees = (base: string) => ({ baseFee: gwei(base), tip: k.tip, maxFee: k.maxFee });
    // 970,000 gas (kick and execution) at 201 gwei is $389.94 against a $100 cap: nobody kicks.
    expect(kickPays(k, curve, view, ETH, fees("200"))).to.equal(false);
    // At 15 gwei + 1 it is $31.04.
    expect(kickPays(k, curve, view, ETH, fees("15"))).to.equal(true);
    expect(kickPays(k, curve, view, ETH, undefined)).to.equal(true);
  });

  it("with the auction's gas part the same keeper kicks and executes at 200 gwei, paid its gas, within the owner's caps", () => {
    const k = keeper("k", 12, "19", "0", "1", "400");
    const priced = new RewardCurve(
      Array.from({ length: 51 }, (_, i) => 10 + Math.floor((90 * i * BLOCK_SECONDS) / 600)),
      Array.from({ length: 51 }, (_, i) => 2 * (10 + Math.floor((90 * i * BLOCK_SECONDS) / 600))),
      500,
      { units: 800_000n, kickUnits: 230_000n, maxTip: gwei("2") },
    );
    const caps = { maxGasPrice: gwei("2000"), maxRewardBase: usd("1000000") };
    const fees = { baseFee: gwei("200"), tip: gwei("3"), maxFee: gwei("400") };
    // 800,000 units at 200 + min(3, 2) gwei, at $2,000: $323.20.
    expect(priced.gasPart(k, fees, ETH, caps)).to.equal(usd("323.2"));
    // The owner's gas price cap (150 gwei) and reward cap ($200) bind in turn.
    expect(priced.gasPart(k, fees, ETH, { ...caps, maxGasPrice: gwei("150") })).to.equal(usd("240"));
    expect(priced.gasPart(k, fees, ETH, { ...caps, maxRewardBase: usd("200") })).to.equal(usd("200"));
    // Without gas stress the node's base fee is next to nothing: the keeper's 19 gwei is tip, bounded at 2.
    expect(priced.gasPart(k, undefined, ETH, caps)).to.equal(usd("3.2"));
    // No gas part on a curve read from an auction that prices none.
    expect(curve.gasPart(k, fees, ETH, caps)).to.equal(0n);
    // The kick's refund: 230,000 units at the same price, $92.92; the kicker gets it with its own execution, another
    // executor does not, and its share of the owner's cap is what the refund leaves.
    const refund = priced.kickRefund(k, fees, ETH, caps);
    expect(refund).to.equal(usd("92.92"));
    const owed = { kicker: 0, kickRefundBase: refund, maxRewardBase: usd("400") };
    expect(executorShare(0, usd("323.2"), owed)).to.deep.equal({
      gasRewardBase: usd("416.12"),
      maxRewardBase: usd("400"),
    });
    expect(executorShare(1, usd("323.2"), owed)).to.deep.equal({
      gasRewardBase: usd("323.2"),
      maxRewardBase: usd("307.08"),
    });
    const view = { valueBase: usd("10000"), urgency: wad("1"), ownerCap: 100, ...caps };
    expect(kickPays(k, curve, view, ETH, fees)).to.equal(false);
    expect(kickPays(k, priced, view, ETH, fees)).to.equal(true);
    const plan = planExecution([k], priced, { ...view, kickedAt: 1_000 }, 1_000, ETH, atBaseFee([k], gwei("200")));
    expect(plan.order).to.deep.equal([0]);
    // Capped at $300 in all, the reward no longer covers 780,000 gas at 201 gwei ($313.56): no execution.
    const capped = { ...view, kickedAt: 1_000, maxRewardBase: usd("300") };
    expect(planExecution([k], priced, capped, 1_000, ETH, atBaseFee([k], gwei("200"))).at).to.equal(undefined);
  });
});

describe("lib/keeper: sale hints, shared by keeper:run and the simulation", () => {
  it("a deleverage tries the whole move, then half and three tenths of the status's size", () => {
    expect(saleHints("deleverage", 1_000n)).to.deep.equal([MaxUint256, 500n, 300n]);
    // Every part is above the vault's quarter (VaultHintTooSmall), with room for the status's size being a little
    // under the execution's.
    for (const hint of saleHints("deleverage", 1_000n).slice(1)) expect(hint * 4n).to.be.gt(1_000n);
  });

  it("a leverage must land on target, so it is tried whole only", () => {
    expect(saleHints("leverage", 1_000n)).to.deep.equal([MaxUint256]);
  });

  it("takes the first hint the attempt accepts, in order", async () => {
    const tried: bigint[] = [];
    const accepted = await firstAcceptedHint([MaxUint256, 500n, 300n], async (hint) => {
      tried.push(hint);
      if (hint > 400n) throw new Error(`refused ${hint}`);
      return hint * 2n;
    });
    expect(accepted).to.deep.equal({ hint: 300n, result: 600n });
    expect(tried).to.deep.equal([MaxUint256, 500n, 300n]);
  });

  it("throws the whole move's error when no hint is accepted: it says why the whole sale failed", async () => {
    let thrown: unknown;
    try {
      await firstAcceptedHint([MaxUint256, 500n], async (hint) => {
        throw new Error(hint === MaxUint256 ? "Too little received" : "VaultHintTooSmall");
      });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).to.be.instanceOf(Error);
    expect((thrown as Error).message).to.equal("Too little received");
  });
});
