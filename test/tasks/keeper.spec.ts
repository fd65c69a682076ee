import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fs from "node:fs";
import { formatEther, getAddress, MaxUint256, parseUnits, toQuantity, Wallet } from "ethers";
import hre from "hardhat";

import type { BallastVault } from "../../typechain-types";
import { ASSETS, ORACLE_BASE_CURRENCY_UNIT, type AssetSymbol } from "../../lib/market";
import { alignTick, MAX_TICK, MIN_TICK, sqrtPriceX96FromUsd, TICK_SPACINGS } from "../../lib/market/math";
import { sortAssets } from "../../lib/market/uniswap";
import { DEFAULT_POLICY, marketPath } from "../../lib/protocol";
import { readFees } from "../../lib/keeper/fees";
import { KEY_ENV, KEY_FLAG_REFUSED } from "../../tasks/keeper/keys";
import { runLoop, type LoopResult } from "../../tasks/keeper/loop";
import { parseLogLines, type LogRecord } from "../../tasks/keeper/log";
import { guardRoutes, Router } from "../../tasks/keeper/routing";
import { setupKeeper, type KeeperArgs, type KeeperSetup } from "../../tasks/keeper/run";
import type { PassSummary } from "../../tasks/keeper/types";
import { movePrice } from "../shared/vault";
import { expectNear, expectTaskError, runTask, tmpFile } from "./helpers";
import { bot, keeperArgs, keeperFixture, openVault, outOfBandFixture, type KeeperFixture } from "./keeper-fixtures";

const TARGET = parseUnits("1.5", 18);
const TOLERANCE = parseUnits("0.02", 18);
/** The bot's first pass kicked the three auctions; five minutes later the rewards have grown. */
async function kickedFixture(): Promise<KeeperFixture> {
  const f = await outOfBandFixture();
  await runTask("keeper:run", keeperArgs(f));
  await f.world.advance(300);
  return f;
}

async function runOnce(f: KeeperFixture, extra: Partial<KeeperArgs> = {}) {
  const { result, output } = await runTask<PassSummary>("keeper:run", keeperArgs(f, extra));
  const records = parseLogLines(output.split("\n").filter((l) => l.startsWith("{")));
  return { summary: result, records };
}

const addr = async (...vaults: BallastVault[]): Promise<string[]> =>
  (await Promise.all(vaults.map((v) => v.getAddress()))).map((a) => getAddress(a)).sort();

const sorted = (list: readonly string[]): string[] => [...list].sort();

function events(records: LogRecord[], event: string): LogRecord[] {
  return records.filter((r) => r.event === event);
}

/** Aave's scaled balances of a WETH vault: they move only when the position does. */
async function scaled(f: KeeperFixture, vault: BallastVault): Promise<bigint[]> {
  return [
    await f.aave.aTokens.WETH.scaledBalanceOf(vault),
    await f.aave.variableDebtTokens.USDC.scaledBalanceOf(vault),
  ];
}

describe("keeper:run", () => {
  describe("a pass", () => {
    it("kicks exactly the vaults out of band, and executes nothing in the pass that kicked", async () => {
      const f = await loadFixture(outOfBandFixture);
      const { summary, records } = await runOnce(f);
      expect(summary.vaults).to.equal(4);
      expect(summary.discovered).to.equal(4);
      expect(summary.outOfBand).to.equal(3);
      expect(sorted(summary.kicked)).to.deep.equal(await addr(f.v1, f.v3, f.btc));
      expect(summary.executed).to.have.length(0);
      expect(summary.failed).to.have.length(0);
      for (const v of [f.v1, f.v3, f.btc]) expect((await f.auction.auctionOf(v)).kickedAt).to.not.equal(0n);
      expect((await f.auction.auctionOf(f.v2)).kickedAt).to.equal(0n);
      const kicked = events(records, "kicked");
      expect(kicked.map((r) => r.direction).sort()).to.deep.equal(["deleverage", "deleverage", "leverage"]);
      for (const r of records) expect(Object.keys(r).slice(0, 3)).to.deep.equal(["level", "ts", "event"]);
    });

    it("later, executes exactly the kicked vaults in one batch: back on target, rewards paid, v2 untouched", async () => {
      const f = await loadFixture(kickedFixture);
      const usdc = f.tokens.erc20.USDC;
      const before = await usdc.balanceOf(f.keeper);
      const v2Before = await scaled(f, f.v2);
      const { summary, records } = await runOnce(f);

      expect(sorted(summary.executed.map((e) => e.vault))).to.deep.equal(await addr(f.v1, f.v3, f.btc));
      expect(summary.kicked).to.have.length(0);
      expect(summary.lostRaces).to.have.length(0);
      expect(summary.failed).to.have.length(0);
      expect(summary.transactions).to.have.length(1);
      for (const e of summary.executed) {
        expect(e.batched).to.equal(true);
        expect(e.reward > 0n, "reward").to.equal(true);
        expect(e.rewardBps).to.be.greaterThan(10);
      }
      for (const v of [f.v1, f.v3, f.btc]) {
        expectNear((await v.position()).healthFactor, TARGET, TOLERANCE, `HF of ${await v.getAddress()}`);
        expect((await f.auction.auctionOf(v)).kickedAt).to.equal(0n);
      }
      const paid = summary.executed.reduce((sum, e) => sum + e.reward, 0n);
      expect((await usdc.balanceOf(f.keeper)) - before).to.equal(paid);
      expect(await scaled(f, f.v2)).to.deep.equal(v2Before);

      const executed = events(records, "executed");
      expect(executed).to.have.length(3);
      const weth = executed.filter((r) => r.direction === "deleverage");
      for (const r of weth) expect(r.route).to.equal("WETH -500-> USDC");
      expect(executed.find((r) => r.direction === "leverage")?.route).to.equal("USDC -3000-> WBTC");
      expect(events(records, "profitable")).to.have.length(3);
    });

    it("with nothing to do, sends nothing", async () => {
      const f = await loadFixture(kickedFixture);
      await runOnce(f);
      const nonce = await hre.ethers.provider.getTransactionCount(f.keeper);
      const { summary } = await runOnce(f);
      expect(summary.outOfBand).to.equal(0);
      expect(summary.kicked).to.have.length(0);
      expect(summary.cancelled).to.have.length(0);
      expect(summary.executed).to.have.length(0);
      expect(summary.transactions).to.have.length(0);
      expect(await hre.ethers.provider.getTransactionCount(f.keeper)).to.equal(nonce);
    });

    it("all in band: nothing kicked, nothing sent", async () => {
      const f = await loadFixture(keeperFixture);
      const { summary, records } = await runOnce(f);
      expect(summary.vaults).to.equal(4);
      expect(summary.outOfBand).to.equal(0);
      expect(summary.transactions).to.have.length(0);
      expect(events(records, "pass")).to.have.length(1);
    });

    it("cancels the auctions of vaults back in band, unless --no-cancel", async () => {
      const f = await loadFixture(kickedFixture);
      await movePrice(f, "WETH", 2_000n * ORACLE_BASE_CURRENCY_UNIT);
      // A minimum profit no reward reaches keeps the WBTC vault's execution out of the way.
      const held = await runOnce(f, { noCancel: true, minProfit: "1000000" });
      expect(held.summary.cancelled).to.have.length(0);
      expect(held.summary.skipped).to.deep.equal([{ vault: await f.btc.getAddress(), reason: "unprofitable" }]);
      expect(events(held.records, "unprofitable")[0].minProfitUsd).to.equal("1000000.00");
      expect((await f.auction.auctionOf(f.v1)).kickedAt).to.not.equal(0n);

      const { summary, records } = await runOnce(f, { minProfit: "1000000" });
      expect(sorted(summary.cancelled)).to.deep.equal(await addr(f.v1, f.v3));
      expect(events(records, "cancelled")).to.have.length(2);
      for (const v of [f.v1, f.v3]) expect((await f.auction.auctionOf(v)).kickedAt).to.equal(0n);
      expect((await f.auction.auctionOf(f.btc)).kickedAt).to.not.equal(0n);
    });

    it("an auction kicked one way for a vault that now needs the other is cancelled and kicked again", async () => {
      const f = await loadFixture(kickedFixture);
      // WETH at 2,500: v1 (1.875) and v3 (1.81) are now above maxHF 1.8, v2 (2.12) too; their auctions say deleverage.
      await movePrice(f, "WETH", 2_500n * ORACLE_BASE_CURRENCY_UNIT);
      const { summary } = await runOnce(f, { minProfit: "1000000" });
      expect(sorted(summary.cancelled)).to.deep.equal(await addr(f.v1, f.v3));
      expect(sorted(summary.kicked)).to.deep.equal(await addr(f.v1, f.v2, f.v3));
      for (const v of [f.v1, f.v2, f.v3]) expect((await f.auction.auctionOf(v)).direction).to.equal(2n);
    });

    it("sends nothing while gas costs more than --max-gas-price", async () => {
      const f = await loadFixture(kickedFixture);
      const nonce = await hre.ethers.provider.getTransactionCount(f.keeper);
      const { summary, records } = await runOnce(f, { maxGasPrice: "0.000000001" });
      expect(summary.transactions).to.have.length(0);
      expect(summary.skipped.map((s) => s.reason)).to.deep.equal(["gas-price", "gas-price", "gas-price"]);
      expect(events(records, "gas-price-too-high")).to.have.length(1);
      expect(await hre.ethers.provider.getTransactionCount(f.keeper)).to.equal(nonce);
    });
  });

  describe("races and failures", () => {
    it("a kick that finds an auction started by another keeper is logged and the others go on", async () => {
      const f = await loadFixture(outOfBandFixture);
      const k = await bot(f);
      const plan = await k.bot.plan();
      expect(plan.kicks).to.have.length(3);
      await (await f.auction.connect(f.rival).kick(f.v1)).wait();
      const summary = await k.bot.act(plan);
      expect(summary.kickRaces).to.deep.equal(await addr(f.v1));
      expect(sorted(summary.kicked)).to.deep.equal(await addr(f.v3, f.btc));
      const raced = events(parseLogLines(k.lines), "kick-raced");
      expect(raced).to.have.length(1);
      expect(raced[0].reason).to.match(/already running/);
    });

    for (const batchSize of [5, 1]) {
      const mode = batchSize === 1 ? "alone" : "in a batch";
      it(`executing ${mode}: a lost race (another keeper executed first) is logged and survived`, async () => {
        const f = await loadFixture(kickedFixture);
        const k = await bot(f, { batchSize });
        const plan = await k.bot.plan();
        expect(plan.executions).to.have.length(3);
        await (await f.auction.connect(f.rival).execute(f.v1, f.down, MaxUint256, f.rival)).wait();
        const summary = await k.bot.act(plan);
        expect(summary.lostRaces).to.deep.equal(await addr(f.v1));
        expect(sorted(summary.executed.map((e) => e.vault))).to.deep.equal(await addr(f.v3, f.btc));
        expect(summary.failed).to.have.length(0);
        expect(summary.transactions).to.have.length(batchSize === 1 ? 3 : 1);
        const lost = events(parseLogLines(k.lines), "lost-race");
        expect(lost).to.have.length(1);
        expect(lost[0].vault).to.equal(await f.v1.getAddress());
        expect(lost[0].stage).to.equal("execute");
        expect(lost[0].reason).to.match(/no auction is running/);
        // The next pass finds nothing left to do.
        const next = await k.bot.pass();
        expect(next.transactions).to.have.length(0);
      });

      it(`executing ${mode}: a vault whose execution reverts does not stop the others`, async () => {
        const f = await loadFixture(kickedFixture);
        const k = await bot(f, { batchSize });
        const plan = await k.bot.plan();
        expect(plan.executions).to.have.length(3);
        // v3's owner tightens the slippage bound to nothing: its swap can no longer meet the oracle minimum.
        await (await f.v3.setPolicy({ ...DEFAULT_POLICY, maxSlippageBps: 0, urgentSlippageBps: 0 })).wait();
        const summary = await k.bot.act(plan);
        expect(sorted(summary.executed.map((e) => e.vault))).to.deep.equal(await addr(f.v1, f.btc));
        expect(summary.failed).to.have.length(1);
        expect(summary.failed[0]).to.include({ vault: await f.v3.getAddress(), stage: "execute" });
        expect(summary.failed[0].reason).to.match(/Too little received/);
        const failed = events(parseLogLines(k.lines), "execute-failed");
        expect(failed).to.have.length(1);
        expect((await f.auction.auctionOf(f.v3)).kickedAt).to.not.equal(0n);
      });
    }

    it("a vault whose simulation reverts is logged with the decoded error and skipped", async () => {
      const f = await loadFixture(kickedFixture);
      await (await f.v3.setPolicy({ ...DEFAULT_POLICY, maxSlippageBps: 0, urgentSlippageBps: 0 })).wait();
      const { summary, records } = await runOnce(f);
      expect(sorted(summary.executed.map((e) => e.vault))).to.deep.equal(await addr(f.v1, f.btc));
      expect(summary.failed).to.have.length(1);
      expect(summary.failed[0]).to.include({ vault: await f.v3.getAddress(), stage: "simulate" });
      const failed = events(records, "simulation-failed");
      expect(failed[0].route).to.equal("WETH -500-> USDC");
      expect(failed[0].reason).to.match(/Too little received/);
    });

    // R1: a 1-wei WBTC supply on v1's behalf, then WBTC's LTV set to 0, makes Aave refuse v1's collateral withdrawals.
    it("disables a vault's foreign zero-LTV collateral when its simulation fails with Aave's 57, and executes it next", async () => {
      const f = await loadFixture(kickedFixture);
      const wbtc = f.tokens.erc20.WBTC;
      await f.world.fund("WBTC", f.rival.address, 1n);
      await (await wbtc.connect(f.rival).approve(f.aave.pool, 1n)).wait();
      await (await f.aave.pool.connect(f.rival).supply(wbtc, 1n, f.v1, 0)).wait();
      const { data } = await f.aave.pool.getConfiguration(wbtc);
      await (
        await f.aave.configurator
          .connect(f.accounts.admin)
          .configureReserveAsCollateral(wbtc, 0, (data >> 16n) & 0xffffn, (data >> 32n) & 0xffffn)
      ).wait();
      const first = await runOnce(f);
      const v1 = getAddress(await f.v1.getAddress());
      expect(first.summary.failed.find((x) => x.vault === v1)).to.include({ stage: "simulate", error: 'Error("57")' });
      expect(events(first.records, "collateral-disabled").map((r) => [r.vault, r.asset])).to.deep.equal([
        [v1, getAddress(await wbtc.getAddress())],
      ]);
      await expect(f.factory.checkCollateralOf(f.v1, wbtc)).to.be.revertedWithCustomError(
        f.factory,
        "FactoryNotCollateral",
      );
      const second = await runOnce(f);
      expect(second.summary.executed.map((e) => e.vault)).to.include(v1);
    });

    it("re-syncs the nonce and retries once when another process used the keeper's account", async () => {
      const f = await loadFixture(outOfBandFixture);
      const k = await bot(f);
      expect((await k.bot.pass()).kicked).to.have.length(3);
      // The bot's cached nonce is now stale.
      await (await f.keeper.sendTransaction({ to: f.keeper.address, value: 0n })).wait();
      await f.world.advance(300);
      const summary = await k.bot.pass();
      expect(summary.executed).to.have.length(3);
      const resync = events(parseLogLines(k.lines), "nonce-resync");
      expect(resync).to.have.length(1);
      expect(resync[0].action).to.equal("executeBatch");
    });

    it("the loop logs a failing pass, goes on, and stops when aborted", async () => {
      const f = await loadFixture(keeperFixture);
      const lines: string[] = [];
      const controller = new AbortController();
      const setup = await setupKeeper(hre, keeperArgs(f), {
        sink: (line) => {
          lines.push(line);
          if (lines.filter((l) => l.includes('"pass-failed"')).length === 2) controller.abort();
        },
      });
      // After start-up the lens's code becomes the forwarder's, which has no statuses(): every pass fails at the scan.
      const forwarderCode = await hre.ethers.provider.getCode(f.forwarder);
      await hre.network.provider.send("hardhat_setCode", [await f.lens.getAddress(), forwarderCode]);
      const result: LoopResult = await runLoop(setup.bot, { intervalMs: 5, signal: controller.signal });
      expect(result).to.include({ passes: 0, failedPasses: 2 });
      const records = parseLogLines(lines);
      expect(events(records, "pass-failed")).to.have.length(2);
      expect(events(records, "stopped")).to.have.length(1);
    });
  });

  describe("trigger-price index", () => {
    const boundsOf = (b: Awaited<ReturnType<KeeperFixture["factory"]["policyBounds"]>>) => ({
      minHFFloor: b.minHFFloor,
      maxHFCeiling: b.maxHFCeiling,
      minBandGap: b.minBandGap,
      hfTolerance: b.hfTolerance,
      maxSlippageBpsCap: b.maxSlippageBpsCap,
      maxKeeperRewardBpsCap: b.maxKeeperRewardBpsCap,
    });
    /** The kicks a plan decides, sorted: what the bot would send, without sending it. */
    const kicksOf = async (setup: KeeperSetup): Promise<string[]> =>
      (await setup.bot.plan()).kicks.map((k) => `${k.vault} ${k.direction}`).sort();

    /**
     * An indexed bot whose first pass (a sweep, all in band) has run, and a bot that reads every vault. Its rolling
     * re-reads are left out (a sweep interval of months) unless `extra` sets one.
     */
    async function bots(f: KeeperFixture, extra: Partial<KeeperArgs> = {}) {
      const indexed = await bot(f, { fromBlock: undefined, sweepInterval: 1e7, ...extra });
      const first = await indexed.bot.pass();
      expect([first.sweep, first.read, first.outOfBand]).to.deep.equal([true, 4, 0]);
      const idle = await indexed.bot.pass();
      expect([idle.sweep, idle.read]).to.deep.equal([false, 0]);
      return { indexed, full: await bot(f, { fromBlock: undefined, noIndex: true }) };
    }

    it("after its sweep, a pass reads only the vault a price move crossed, and decides as a full read does", async () => {
      const f = await loadFixture(keeperFixture);
      const { indexed, full } = await bots(f);
      // WETH -12%: v3 (1.45) falls under 1.3; v1 (1.5 -> 1.32) and v2 (1.7 -> 1.5) stay in band.
      await movePrice(f, "WETH", 1_760n * ORACLE_BASE_CURRENCY_UNIT);
      const [v3] = await addr(f.v3);
      expect(await kicksOf(indexed)).to.deep.equal([`${v3} deleverage`]);
      expect(await kicksOf(full)).to.deep.equal([`${v3} deleverage`]);
      const pass = await indexed.bot.pass();
      expect([pass.sweep, pass.read, pass.outOfBand]).to.deep.equal([false, 1, 1]);
      expect(pass.kicked).to.deep.equal([v3]);
      // Its auction runs now: the vault is read every pass until it ends, with no price move.
      const next = await indexed.bot.pass();
      expect([next.read, next.outOfBand]).to.deep.equal([1, 1]);
    });

    it("a vault's own event (a tighter policy) puts it in the next pass, with no price move", async () => {
      const f = await loadFixture(keeperFixture);
      const { indexed, full } = await bots(f);
      await (
        await f.v2.setPolicy({
          ...DEFAULT_POLICY,
          minHF: parseUnits("1.75", 18),
          targetHF: parseUnits("1.9", 18),
          maxHF: parseUnits("2.2", 18),
        })
      ).wait();
      const [v2] = await addr(f.v2);
      expect(await kicksOf(full)).to.deep.equal([`${v2} deleverage`]);
      const pass = await indexed.bot.pass();
      expect([pass.sweep, pass.read]).to.deep.equal([false, 1]);
      expect(pass.kicked).to.deep.equal([v2]);
    });

    it("an Aave repay on a vault's behalf by someone else puts it in the next pass", async () => {
      const f = await loadFixture(keeperFixture);
      const { indexed, full } = await bots(f);
      const usdc = f.tokens.erc20.USDC;
      const amount = parseUnits("8000", 6);
      await f.world.fund("USDC", f.rival.address, amount);
      await (await usdc.connect(f.rival).approve(f.aave.pool, amount)).wait();
      await (await f.aave.pool.connect(f.rival).repay(usdc, amount, 2, f.v1)).wait();
      const [v1] = await addr(f.v1);
      expect((await f.v1.position()).healthFactor > parseUnits("1.8", 18), "v1 above its band").to.equal(true);
      expect(await kicksOf(full)).to.deep.equal([`${v1} leverage`]);
      const pass = await indexed.bot.pass();
      expect([pass.sweep, pass.read]).to.deep.equal([false, 1]);
      expect(pass.kicked).to.deep.equal([v1]);
    });

    it("follows a collateral switch: the vault leaves its old pair's index for the new one's", async () => {
      const f = await loadFixture(keeperFixture);
      const { indexed } = await bots(f);
      const toWbtc = await marketPath(f, ["WETH", "USDC", "WBTC"], [500, 3_000]);
      await (await f.v1.switchCollateral(await f.tokens.erc20.WBTC.getAddress(), toWbtc)).wait();
      const [[v1], [v3]] = await Promise.all([addr(f.v1), addr(f.v3)]);
      const switched = await indexed.bot.pass();
      expect([switched.sweep, switched.read, switched.outOfBand]).to.deep.equal([false, 1, 0]);
      // WETH -20% would have taken v1 (then 1.5) under its band: only v3 is read, v1 is no WETH vault any more.
      await movePrice(f, "WETH", 1_600n * ORACLE_BASE_CURRENCY_UNIT);
      const wethDrop = await indexed.bot.pass();
      expect([wethDrop.sweep, wethDrop.read]).to.deep.equal([false, 1]);
      expect(wethDrop.kicked).to.deep.equal([v3]);
      // WBTC -10% takes v1 (about 1.41 after the switch) under 1.3; the WBTC vault (1.5) stays in band.
      await movePrice(f, "WBTC", 54_000n * ORACLE_BASE_CURRENCY_UNIT);
      const wbtcDrop = await indexed.bot.pass();
      expect([wbtcDrop.sweep, wbtcDrop.read]).to.deep.equal([false, 2]);
      expect(wbtcDrop.kicked).to.deep.equal([v1]);
    });

    it("re-reads a rolling share of the registry, so that every vault is read again within --sweep-interval", async () => {
      const f = await loadFixture(keeperFixture);
      const { indexed } = await bots(f, { sweepInterval: 1_000, logDebug: true });
      const seen: string[] = [];
      for (let i = 0; i < 2; i++) {
        // A little over half the interval: half the registry is due.
        await f.world.advance(520);
        const from = indexed.lines.length;
        const pass = await indexed.bot.pass();
        expect([pass.sweep, pass.rolled, pass.read]).to.deep.equal([false, 2, 2]);
        const [read] = events(parseLogLines(indexed.lines.slice(from)), "index-read");
        seen.push(...(read.vaults as string[]));
      }
      expect(sorted(seen)).to.deep.equal(await addr(f.v1, f.v2, f.v3, f.btc));
    });

    it("sweeps again after --sweep-interval of chain time, and at once when the factory's minHF floor moves", async () => {
      const f = await loadFixture(keeperFixture);
      const { indexed, full } = await bots(f, { sweepInterval: 1_000 });
      await f.world.advance(1_000);
      const swept = await indexed.bot.pass();
      expect([swept.sweep, swept.read, swept.outOfBand]).to.deep.equal([true, 4, 0]);
      // A floor of 1.55 puts v1 (1.5), v3 (1.45) and btc (1.5) under their band, though their stored minHF is 1.3.
      const b = await f.factory.policyBounds();
      const floor = parseUnits("1.55", 18);
      const raised = { ...boundsOf(b), minHFFloor: floor };
      await (await f.factory.connect(f.governance).setPolicyBounds(raised)).wait();
      const expected = (await addr(f.v1, f.v3, f.btc)).map((v) => `${v} deleverage`);
      expect(await kicksOf(full)).to.deep.equal(expected);
      const pass = await indexed.bot.pass();
      expect([pass.sweep, pass.read]).to.deep.equal([true, 4]);
      expect(sorted(pass.kicked)).to.deep.equal(await addr(f.v1, f.v3, f.btc));
    });

    it("sweeps at once when Aave lowers a collateral's liquidation threshold", async () => {
      const f = await loadFixture(keeperFixture);
      const { indexed, full } = await bots(f);
      const weth = f.tokens.erc20.WETH;
      const { data } = await f.aave.pool.getConfiguration(weth);
      const threshold = (data >> 16n) & 0xffffn;
      // 15% lower: v1 (1.5) and v3 (1.45) fall under 1.3, v2 (1.7) stays above it; no price moves.
      const lowered = (threshold * 85n) / 100n;
      await (
        await f.aave.configurator
          .connect(f.accounts.admin)
          .configureReserveAsCollateral(weth, lowered - 500n, lowered, (data >> 32n) & 0xffffn)
      ).wait();
      const expected = (await addr(f.v1, f.v3)).map((v) => `${v} deleverage`);
      expect(await kicksOf(full)).to.deep.equal(expected);
      const pass = await indexed.bot.pass();
      expect([pass.sweep, pass.read]).to.deep.equal([true, 4]);
      expect(sorted(pass.kicked)).to.deep.equal(await addr(f.v1, f.v3));
    });

    it("--no-index reads every vault every pass", async () => {
      const f = await loadFixture(keeperFixture);
      const { full } = await bots(f);
      for (let i = 0; i < 2; i++) expect((await full.bot.pass()).read).to.equal(4);
    });
  });

  describe("routing", () => {
    it("quotes every pool of the pair and picks the better one when a pool is pushed off price", async () => {
      const f = await loadFixture(keeperFixture);
      const [weth, usdc] = [await f.tokens.erc20.WETH.getAddress(), await f.tokens.erc20.USDC.getAddress()];
      const router = new Router(f.uniswap.quoter, f.uniswap.factory, guardRoutes(f.priceGuard), [weth, usdc]);
      const tenEth = parseUnits("10", 18);
      const twentyK = parseUnits("20000", 6);
      const sell = await router.route(weth, usdc, tenEth);
      expect(sell.quotes.map((q) => q.fees)).to.deep.equal([[500], [3_000]]);
      expect(sell.best?.fees).to.deep.equal([500]);
      expect((await router.route(usdc, weth, twentyK)).best?.fees).to.deep.equal([500]);

      // Dump WETH into the 0.3% pool: WETH is cheap there now, so buying WETH goes there and selling it does not.
      const whale = f.rival;
      const dump = parseUnits("2000", 18);
      await f.world.fund("WETH", whale.address, dump);
      await (await f.tokens.erc20.WETH.connect(whale).approve(f.uniswap.router, dump)).wait();
      await (
        await f.uniswap.router.connect(whale).exactInputSingle({
          tokenIn: weth,
          tokenOut: usdc,
          fee: 3_000,
          recipient: whale.address,
          deadline: MaxUint256,
          amountIn: dump,
          amountOutMinimum: 0n,
          sqrtPriceLimitX96: 0n,
        })
      ).wait();
      const buy = await router.route(usdc, weth, twentyK);
      expect(buy.best?.fees).to.deep.equal([3_000]);
      expect(buy.quotes[1].amountOut > buy.quotes[0].amountOut).to.equal(true);
      expect((await router.route(weth, usdc, tenEth)).best?.fees).to.deep.equal([500]);
    });

    it("takes a two-hop route through WETH when it quotes better than the direct pool", async () => {
      const f = await loadFixture(keeperFixture);
      const [wbtc, weth, usdc] = await Promise.all(
        (["WBTC", "WETH", "USDC"] as const).map((s) => f.tokens.erc20[s].getAddress()),
      );
      const router = new Router(f.uniswap.quoter, f.uniswap.factory, guardRoutes(f.priceGuard), [weth, usdc]);
      const oneBtc = parseUnits("1", 8);
      expect((await router.route(wbtc, usdc, oneBtc)).best?.fees).to.deep.equal([3_000]);

      // A deep WBTC/WETH 0.05% pool at the oracle price, then WBTC dumped into the direct WBTC/USDC pool.
      await addFullRangePool(f, "WBTC", "WETH", 500, 200n);
      // Governance allows the new pool (R2); the router proposes only allowed pools.
      await (await f.priceGuard.connect(f.governance).setRoute(wbtc, weth, 500, true)).wait();
      const fresh = new Router(f.uniswap.quoter, f.uniswap.factory, guardRoutes(f.priceGuard), [weth, usdc]);
      const whale = f.rival;
      const dump = parseUnits("100", 8);
      await f.world.fund("WBTC", whale.address, dump);
      await (await f.tokens.erc20.WBTC.connect(whale).approve(f.uniswap.router, dump)).wait();
      await (
        await f.uniswap.router.connect(whale).exactInputSingle({
          tokenIn: wbtc,
          tokenOut: usdc,
          fee: 3_000,
          recipient: whale.address,
          deadline: MaxUint256,
          amountIn: dump,
          amountOutMinimum: 0n,
          sqrtPriceLimitX96: 0n,
        })
      ).wait();
      const choice = await fresh.route(wbtc, usdc, oneBtc);
      // Direct, then through WETH at each WETH/USDC tier.
      expect(choice.quotes.map((q) => q.fees)).to.deep.equal([[3_000], [500, 500], [500, 3_000]]);
      expect(choice.best?.tokens).to.deep.equal([wbtc, weth, usdc].map((a) => getAddress(a)));
      expect(choice.best?.fees).to.deep.equal([500, 500]);
    });

    it("proposes no pool governance has not allowed, and a pool again once allowed (R2)", async () => {
      const f = await loadFixture(keeperFixture);
      const [wbtc, weth, usdc] = await Promise.all(
        (["WBTC", "WETH", "USDC"] as const).map((s) => f.tokens.erc20[s].getAddress()),
      );
      // A keeper's own WETH/USDC 1% pool and a WBTC/WETH 0.05% pool: both exist, neither is allowed.
      await addFullRangePool(f, "WETH", "USDC", 10_000, 200n);
      await addFullRangePool(f, "WBTC", "WETH", 500, 200n);
      const router = new Router(f.uniswap.quoter, f.uniswap.factory, guardRoutes(f.priceGuard), [weth, usdc]);
      expect((await router.candidates(weth, usdc)).map((c) => c.fees)).to.deep.equal([[500], [3_000]]);
      expect((await router.candidates(wbtc, usdc)).map((c) => c.fees)).to.deep.equal([[3_000]]);
      // Without the filter both would be proposed.
      const open = new Router(f.uniswap.quoter, f.uniswap.factory, async () => true, [weth, usdc]);
      expect((await open.candidates(weth, usdc)).map((c) => c.fees)).to.deep.equal([[500], [3_000], [10_000]]);
      // Disallowing a market pool removes it at once: the guard is read on every call.
      await (await f.priceGuard.connect(f.governance).setRoute(weth, usdc, 3_000, false)).wait();
      expect((await router.candidates(weth, usdc)).map((c) => c.fees)).to.deep.equal([[500]]);
    });
  });

  describe("setup", () => {
    it("an address book without a lens says how to get one", async () => {
      const f = await loadFixture(keeperFixture);
      const book = JSON.parse(fs.readFileSync(f.book, "utf8")) as { contracts: Record<string, unknown> };
      delete book.contracts.lens;
      const file = tmpFile("book-without-lens.json");
      fs.writeFileSync(file, JSON.stringify(book));
      await expectTaskError(
        "keeper:run",
        keeperArgs(f, { deployments: file }),
        /records no VaultLens .*npx hardhat local:deploy --network localhost.* or deploy contracts\/lens\/VaultLens\.sol and pass --lens <address>/,
      );
      // --lens fills the gap.
      const { result } = await runTask<PassSummary>(
        "keeper:run",
        keeperArgs(f, { deployments: file, lens: await f.lens.getAddress() }),
      );
      expect(result.vaults).to.equal(4);
    });

    it("without --from-block, reads the registry through the lens at the latest block, then follows events", async () => {
      const f = await loadFixture(keeperFixture);
      const setup = await bot(f, { fromBlock: undefined, pageSize: 3 });
      const first = await setup.bot.pass();
      const records = parseLogLines(setup.lines);
      const read = events(records, "registry-read");
      expect(read).to.have.length(1);
      expect([read[0].vaults, read[0].lensCalls, read[0].block]).to.deep.equal([4, 2, first.block]);
      expect(events(records, "vaults-discovered")).to.have.length(0);
      expect(sorted(setup.bot.knownVaults())).to.deep.equal(await addr(f.v1, f.v2, f.v3, f.btc));
      // A vault created after the start is found by its VaultCreated event, from the block after the registry read.
      const v5 = await openVault(f, 5, "WETH", parseUnits("1", 18), "1.5");
      await setup.bot.pass();
      const later = parseLogLines(setup.lines);
      expect(events(later, "registry-read")).to.have.length(1);
      expect(events(later, "vaults-discovered").map((r) => r.new)).to.deep.equal([1]);
      expect(setup.bot.knownVaults().at(-1)).to.equal(getAddress(await v5.getAddress()));
    });

    it("--keeper-config sets the options a flag or KEEPER_* variable does not: its page size reads the registry", async () => {
      const f = await loadFixture(keeperFixture);
      const config = tmpFile("keeper-config.json");
      fs.writeFileSync(config, JSON.stringify({ pageSize: 3, minProfit: "0" }));
      const lensCalls = async (extra: Partial<KeeperArgs>): Promise<unknown> => {
        const setup = await bot(f, { fromBlock: undefined, pageSize: undefined, keeperConfig: config, ...extra });
        await setup.bot.pass();
        return events(parseLogLines(setup.lines), "registry-read")[0].lensCalls;
      };
      expect(await lensCalls({})).to.equal(2);
      process.env.KEEPER_PAGE_SIZE = "1";
      try {
        expect(await lensCalls({})).to.equal(4);
        expect(await lensCalls({ pageSize: 4 })).to.equal(1);
      } finally {
        delete process.env.KEEPER_PAGE_SIZE;
      }
    });

    it("refuses at start-up an address that is not a VaultLens, in one line", async () => {
      const f = await loadFixture(keeperFixture);
      const factory = await f.factory.getAddress();
      await expectTaskError(
        "keeper:run",
        keeperArgs(f, { lens: factory }),
        new RegExp(`^${factory} does not answer VaultLens\\.scan: it is not a VaultLens; check --lens$`),
      );
    });

    it("refuses bad flags before reading the chain", async () => {
      const f = await loadFixture(keeperFixture);
      await expectTaskError(
        "keeper:run",
        keeperArgs(f, { logFormat: "xml" }),
        /--log-format must be one of json, pretty/,
      );
      await expectTaskError("keeper:run", keeperArgs(f, { minProfit: "-1" }), /--min-profit must be a decimal number/);
      await expectTaskError(
        "keeper:run",
        keeperArgs(f, { batchSize: 0 }),
        /--batch-size must be a whole number of at least 1/,
      );
      await expectTaskError(
        "keeper:run",
        keeperArgs(f, { deployments: tmpFile("missing.json") }),
        /does not exist: .*or give the keeper --factory, --lens and --quoter/,
      );
    });

    it("refuses bad fee flags before reading the chain", async () => {
      const f = await loadFixture(keeperFixture);
      await expectTaskError(
        "keeper:run",
        keeperArgs(f, { maxFee: "30", maxGasPrice: "30" }),
        /Pass either --max-fee or --max-gas-price \(its old name\), not both/,
      );
      await expectTaskError(
        "keeper:run",
        keeperArgs(f, { maxFee: "2", priorityFee: "3" }),
        /--priority-fee 3 gwei is above --max-fee 2 gwei/,
      );
      await expectTaskError(
        "keeper:run",
        keeperArgs(f, { maxFee: "1.0000000001" }),
        /--max-fee takes at most 9 decimals/,
      );
      await expectTaskError(
        "keeper:run",
        keeperArgs(f, { maxSpendPerPass: "-1" }),
        /--max-spend-per-pass must be a decimal number like 0.05 \(ETH\)/,
      );
      await expectTaskError(
        "keeper:run",
        keeperArgs(f, { txTimeout: 0 }),
        /--tx-timeout must be a number of seconds above 0/,
      );
    });

    it("pretty log lines carry the same fields", async () => {
      const f = await loadFixture(outOfBandFixture);
      const { output } = await runTask("keeper:run", keeperArgs(f, { logFormat: "pretty" }));
      expect(output).to.match(/Z INFO {2}kicked {13}vault=0x[0-9a-fA-F]{40} direction=deleverage hf=1\.\d{4} tx=0x/);
    });
  });
});

describe("keeper:run keys, fees and stuck transactions", () => {
  const rpc = (method: string, params: unknown[] = []): Promise<unknown> => hre.network.provider.send(method, params);

  it("signs with KEEPER_PRIVATE_KEY when no --account is given", async () => {
    const f = await loadFixture(outOfBandFixture);
    const wallet = Wallet.createRandom();
    await rpc("hardhat_setBalance", [wallet.address, toQuantity(parseUnits("10", 18))]);
    process.env[KEY_ENV] = wallet.privateKey;
    try {
      const { summary, records } = await runOnce(f, { account: undefined });
      expect(summary.kicked).to.have.length(3);
      expect(events(records, "start")[0].keeper).to.equal(wallet.address);
      for (const hash of summary.transactions) {
        expect((await hre.ethers.provider.getTransaction(hash))?.from).to.equal(wallet.address);
      }
    } finally {
      delete process.env[KEY_ENV];
    }
  });

  it("refuses --key, sending nothing", async () => {
    const f = await loadFixture(outOfBandFixture);
    const nonce = await hre.ethers.provider.getTransactionCount(f.keeper);
    const message = await expectTaskError(
      "keeper:run",
      keeperArgs(f, { account: undefined, key: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" }),
      /^--key is refused/,
    );
    expect(message).to.equal(KEY_FLAG_REFUSED);
    expect(await hre.ethers.provider.getTransactionCount(f.keeper)).to.equal(nonce);
  });

  it("stops sending once the pass reaches --max-spend-per-pass", async () => {
    const f = await loadFixture(outOfBandFixture);
    // Room for one kick and a half at this block's fee ceiling.
    const fees = await readFees(hre.ethers.provider);
    const ceiling = "maxFeePerGas" in fees.overrides ? fees.overrides.maxFeePerGas : fees.overrides.gasPrice;
    const kickGas = await f.auction.connect(f.keeper).kick.estimateGas(f.v1);
    const cap = formatEther((kickGas * ceiling * 3n) / 2n);
    const { summary, records } = await runOnce(f, { maxSpendPerPass: cap });
    expect(summary.kicked).to.deep.equal(await addr(f.v1));
    expect(summary.transactions).to.have.length(1);
    expect(sorted(summary.skipped.filter((s) => s.reason === "spend-cap").map((s) => s.vault))).to.deep.equal(
      await addr(f.v3, f.btc),
    );
    const reached = events(records, "spend-cap-reached");
    expect(reached).to.have.length(1);
    expect(String(reached[0].reason)).to.match(
      /would pass --max-spend-per-pass .* ETH: nothing more is sent this pass/,
    );
  });

  it("replaces a kick not mined within --tx-timeout, and the pass completes", async () => {
    const f = await loadFixture(outOfBandFixture);
    const k = await bot(f, { txTimeout: 0.3 });
    await rpc("evm_setAutomine", [false]);
    try {
      const pass = k.bot.pass();
      const end = Date.now() + 20_000;
      while (!k.lines.some((l) => l.includes('"tx-replaced"'))) {
        if (Date.now() > end) throw new Error("no replacement logged");
        await new Promise((r) => setTimeout(r, 10));
      }
      await rpc("evm_mine");
      const summary = await pass;
      expect(sorted(summary.kicked)).to.deep.equal(await addr(f.v1, f.v3, f.btc));
      const replaced = events(parseLogLines(k.lines), "tx-replaced");
      expect(replaced).to.have.length(1);
      expect(replaced[0]).to.include({ action: "kick", tx: summary.transactions[0] });
      // The three kicks and the replacement of the first; the first itself was never mined.
      expect(summary.transactions).to.have.length(4);
      expect(summary.transactions).to.include(String(replaced[0].replacement));
      expect(await hre.ethers.provider.getTransactionReceipt(summary.transactions[0])).to.equal(null);
    } finally {
      await rpc("evm_setAutomine", [true]);
    }
  });
});

/** Creates a `fee` pool of two market assets at their oracle prices with full-range liquidity of `baseAmount` whole
 * `base` tokens (and the matching quote). */
async function addFullRangePool(
  f: KeeperFixture,
  base: AssetSymbol,
  quote: AssetSymbol,
  fee: number,
  baseAmount: bigint,
): Promise<void> {
  const lp = f.rival;
  const [token0, token1] = await sortAssets(f.tokens, base, quote);
  const prices = await f.world.oraclePrices();
  const sqrtPriceX96 = sqrtPriceX96FromUsd(
    prices[token0],
    ASSETS[token0].decimals,
    prices[token1],
    ASSETS[token1].decimals,
  );
  const [address0, address1] = [await f.tokens.erc20[token0].getAddress(), await f.tokens.erc20[token1].getAddress()];
  const pm = f.uniswap.positionManager.connect(lp);
  await (await pm.createAndInitializePoolIfNecessary(address0, address1, fee, sqrtPriceX96)).wait();
  const amounts: Record<string, bigint> = {
    [base]: baseAmount * 10n ** BigInt(ASSETS[base].decimals),
    [quote]: (baseAmount * prices[base] * 10n ** BigInt(ASSETS[quote].decimals)) / prices[quote],
  };
  for (const symbol of [token0, token1]) {
    await f.world.fund(symbol, lp.address, amounts[symbol]);
    await (await f.tokens.erc20[symbol].connect(lp).approve(pm, amounts[symbol])).wait();
  }
  const spacing = TICK_SPACINGS[fee];
  await (
    await pm.mint({
      token0: address0,
      token1: address1,
      fee,
      tickLower: alignTick(MIN_TICK, spacing),
      tickUpper: alignTick(MAX_TICK, spacing),
      amount0Desired: amounts[token0],
      amount1Desired: amounts[token1],
      amount0Min: 0n,
      amount1Min: 0n,
      recipient: lp.address,
      deadline: MaxUint256,
    })
  ).wait();
}
