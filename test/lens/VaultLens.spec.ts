import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { MaxUint256, parseUnits, ZeroHash } from "ethers";
import hre from "hardhat";

import {
  BallastVault__factory,
  PriceGuard__factory,
  VaultLens__factory,
  type BallastVault,
  type IBallastVault,
  type IVaultLens,
  type VaultLens,
} from "../../typechain-types";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { DEFAULT_POLICY, LOCAL_PARAMS, singleHopPath } from "../../lib/protocol";
import { protocolFixture, type ProtocolFixture } from "../shared/fixtures";
import { DEPOSIT, movePrice, TARGET_HF } from "../shared/vault";

/** Rebalance directions as `IRebalanceExecutor.Direction` numbers them. */
const NONE = 0n;
const DELEVERAGE = 1n;
const LEVERAGE = 2n;

const WBTC_DEPOSIT = parseUnits("1", 8);
/** A valid band just above 1: a vault opened at HF 1.5 is above its `maxHF` at once. */
const LOW_POLICY: IBallastVault.PolicyStruct = {
  ...DEFAULT_POLICY,
  minHF: parseUnits("1.05", 18),
  targetHF: parseUnits("1.1", 18),
  maxHF: parseUnits("1.15", 18),
};

interface LensFixture extends ProtocolFixture {
  lens: VaultLens;
  /** alice: WETH/USDC opened with 10 WETH at HF 1.5, DEFAULT_POLICY. */
  opened: BallastVault;
  /** bob: WETH/USDC, created, nothing deposited. */
  empty: BallastVault;
  /** dave: WETH/USDC opened at HF 1.5, then LOW_POLICY, so above its band. */
  above: BallastVault;
  /** carol: WBTC/USDC opened with 1 WBTC at HF 1.5, DEFAULT_POLICY. */
  btc: BallastVault;
}

async function createVault(
  f: ProtocolFixture,
  owner: HardhatEthersSigner,
  collateral: "WETH" | "WBTC",
): Promise<BallastVault> {
  const token = f.tokens.erc20[collateral];
  await (await f.factory.connect(owner).createVault(token, f.tokens.erc20.USDC, DEFAULT_POLICY, ZeroHash)).wait();
  return BallastVault__factory.connect(await f.factory.predictVault(owner.address, ZeroHash), owner);
}

async function openVault(
  f: ProtocolFixture,
  vault: BallastVault,
  collateral: "WETH" | "WBTC",
  amount: bigint,
): Promise<void> {
  const owner = vault.runner as HardhatEthersSigner;
  await f.world.fund(collateral, owner.address, amount);
  await (await f.tokens.erc20[collateral].connect(owner).approve(vault, amount)).wait();
  const fee = collateral === "WETH" ? 500 : 3_000;
  await (await vault.open(amount, TARGET_HF, await singleHopPath(f, "USDC", collateral, fee))).wait();
}

/** Four vaults in registry order: opened, empty, above its band (all WETH/USDC), and a WBTC/USDC one. */
async function lensFixture(): Promise<LensFixture> {
  const f = await protocolFixture();
  const [, , alice, bob, carol, dave] = await hre.ethers.getSigners();
  const lens = await new VaultLens__factory(alice).deploy();
  const opened = await createVault(f, alice, "WETH");
  const empty = await createVault(f, bob, "WETH");
  const above = await createVault(f, dave, "WETH");
  const btc = await createVault(f, carol, "WBTC");
  await openVault(f, opened, "WETH", DEPOSIT);
  await openVault(f, above, "WETH", DEPOSIT);
  await (await above.setPolicy(LOW_POLICY)).wait();
  await openVault(f, btc, "WBTC", WBTC_DEPOSIT);
  return { ...f, lens, opened, empty, above, btc };
}

async function addresses(vaults: BallastVault[]): Promise<string[]> {
  return Promise.all(vaults.map(async (v) => v.getAddress()));
}

/** The lens's status equals what the vault's own views (and its auction's) return in the same block. */
async function expectMatches(
  f: ProtocolFixture,
  status: IVaultLens.VaultStatusStructOutput,
  vault: BallastVault,
): Promise<void> {
  const address = await vault.getAddress();
  expect(status.vault, "vault").to.equal(address);
  expect(status.owner, "owner").to.equal(await vault.owner());
  expect(status.collateralAsset, "collateralAsset").to.equal(await vault.collateralAsset());
  expect(status.debtAsset, "debtAsset").to.equal(await vault.debtAsset());
  expect([...status.policy], "policy").to.deep.equal([...(await vault.policy())]);
  expect([...status.position], "position").to.deep.equal([...(await vault.position())]);
  expect(status.automationPaused, "automationPaused").to.equal(await vault.automationPaused());
  const [needed, direction, amountIn, urgency] = await vault.rebalanceNeeded();
  expect(status.ok, "ok").to.equal(true);
  expect(status.revertData, "revertData").to.equal("0x");
  expect(status.needed, "needed").to.equal(needed);
  expect(status.direction, "direction").to.equal(direction);
  expect(status.amountIn, "amountIn").to.equal(amountIn);
  expect(status.urgency, "urgency").to.equal(urgency);
  expect(await vault.AUCTION(), "AUCTION").to.equal(await f.auction.getAddress());
  expect(status.kickedAt, "kickedAt").to.equal((await f.auction.auctionOf(address)).kickedAt);
  expect(status.rewardBps, "rewardBps").to.equal(await f.auction.currentRewardBps(address));
}

/** A further WETH/USDC vault for `signer`, opened at HF 1.5 like the fixture's. */
async function openedVault(f: ProtocolFixture, signer: HardhatEthersSigner): Promise<BallastVault> {
  const vault = await createVault(f, signer, "WETH");
  await openVault(f, vault, "WETH", DEPOSIT);
  return vault;
}

describe("VaultLens", () => {
  describe("#statuses", () => {
    it("matches each vault's own views: in band, empty and above its band", async () => {
      const f = await loadFixture(lensFixture);
      const vaults = [f.opened, f.empty, f.above, f.btc];
      const result = await f.lens.statuses(await addresses(vaults));
      expect(result).to.have.lengthOf(4);
      for (const [i, vault] of vaults.entries()) await expectMatches(f, result[i], vault);
      const [opened, empty, above, btc] = result;
      expect([opened.needed, opened.direction]).to.deep.equal([false, NONE]);
      expect(opened.position.debtBase).to.be.greaterThan(0n);
      expect([empty.needed, empty.direction, empty.position.collateralBase]).to.deep.equal([false, NONE, 0n]);
      expect([above.needed, above.direction, above.urgency]).to.deep.equal([true, LEVERAGE, 0n]);
      expect(above.amountIn).to.be.greaterThan(0n);
      expect([btc.needed, btc.collateralAsset]).to.deep.equal([false, await f.tokens.erc20.WBTC.getAddress()]);
    });

    it("reports a vault below its band as a needed Deleverage with urgency above zero", async () => {
      const f = await loadFixture(lensFixture);
      await movePrice(f, "WETH", 1_600n * ORACLE_BASE_CURRENCY_UNIT);
      const vaults = [f.opened, f.empty, f.above];
      const result = await f.lens.statuses(await addresses(vaults));
      for (const [i, vault] of vaults.entries()) await expectMatches(f, result[i], vault);
      const opened = result[0];
      expect([opened.needed, opened.direction]).to.deep.equal([true, DELEVERAGE]);
      expect(opened.position.healthFactor).to.be.lessThan(DEFAULT_POLICY.minHF);
      expect(opened.amountIn).to.be.greaterThan(0n);
      expect(opened.urgency).to.be.greaterThan(0n);
    });

    it("reports a vault above its band after a price rise as a needed Leverage", async () => {
      const f = await loadFixture(lensFixture);
      await movePrice(f, "WETH", 2_600n * ORACLE_BASE_CURRENCY_UNIT);
      const vaults = [f.opened, f.empty];
      const result = await f.lens.statuses(await addresses(vaults));
      for (const [i, vault] of vaults.entries()) await expectMatches(f, result[i], vault);
      expect([result[0].needed, result[0].direction, result[0].urgency]).to.deep.equal([true, LEVERAGE, 0n]);
      expect(result[0].amountIn).to.be.greaterThan(0n);
    });

    it("reports a paused vault as not needed, with automationPaused set", async () => {
      const f = await loadFixture(lensFixture);
      await (await f.above.pauseAutomation(true)).wait();
      const [status] = await f.lens.statuses([await f.above.getAddress()]);
      await expectMatches(f, status, f.above);
      expect([status.automationPaused, status.needed, status.direction]).to.deep.equal([true, false, NONE]);
    });

    it("isolates a vault whose rebalanceNeeded reverts: ok=false with the PriceGuardStalePrice data", async () => {
      const f = await loadFixture(lensFixture);
      // WETH drops below the alice vault's band; every feed is fresh.
      await movePrice(f, "WETH", 1_600n * ORACLE_BASE_CURRENCY_UNIT);
      // Only the BTC feed goes stale, at a price 30% lower: the WBTC vault is below its band, and sizing the
      // deleverage reads the stale WBTC price.
      const staleAt = BigInt((await f.world.now()) - LOCAL_PARAMS.heartbeat - 1);
      const btcPrice = await f.world.oraclePrice("WBTC");
      await (await f.feeds.WBTC.setRound((btcPrice * 7n) / 10n, staleAt)).wait();
      const vaults = [f.opened, f.btc, f.empty, f.above];
      const result = await f.lens.statuses(await addresses(vaults));
      expect(result).to.have.lengthOf(4);

      const btc = result[1];
      expect(btc.ok).to.equal(false);
      await expect(f.btc.rebalanceNeeded()).to.be.revertedWithCustomError(f.priceGuard, "PriceGuardStalePrice");
      const error = PriceGuard__factory.createInterface().parseError(btc.revertData);
      expect(error?.name).to.equal("PriceGuardStalePrice");
      expect(error?.args.toArray()).to.deep.equal([
        await f.tokens.erc20.WBTC.getAddress(),
        staleAt,
        BigInt(LOCAL_PARAMS.heartbeat),
      ]);
      // The views that did not revert are still reported.
      expect(btc.vault).to.equal(await f.btc.getAddress());
      expect(btc.owner).to.equal(await f.btc.owner());
      expect([...btc.policy]).to.deep.equal([...(await f.btc.policy())]);
      expect([...btc.position]).to.deep.equal([...(await f.btc.position())]);
      expect(btc.position.healthFactor).to.be.lessThan(DEFAULT_POLICY.minHF);
      expect([btc.needed, btc.direction, btc.amountIn, btc.urgency]).to.deep.equal([false, NONE, 0n, 0n]);

      // The others in the same call are unaffected.
      for (const [i, vault] of vaults.entries()) if (i !== 1) await expectMatches(f, result[i], vault);
      expect([result[0].ok, result[0].direction]).to.deep.equal([true, DELEVERAGE]);
    });

    it("matches the vault's own views in every state in one call: in band, below, above, paused, no debt", async () => {
      const f = await loadFixture(lensFixture);
      const [, , , , , , erin] = await hre.ethers.getSigners();
      const paused = await openedVault(f, erin);
      await (await paused.pauseAutomation(true)).wait();
      // At 1,600 the DEFAULT_POLICY vaults fall below 1.3; dave's LOW_POLICY vault (HF about 1.2) is still above 1.15.
      await movePrice(f, "WETH", 1_600n * ORACLE_BASE_CURRENCY_UNIT);
      const vaults = [f.btc, f.opened, f.above, paused, f.empty];
      const result = await f.lens.statuses(await addresses(vaults));
      for (const [i, vault] of vaults.entries()) await expectMatches(f, result[i], vault);
      const [inBand, below, above, pausedStatus, empty] = result;
      expect([inBand.needed, inBand.direction, inBand.position.debtBase > 0n]).to.deep.equal([false, NONE, true]);
      expect([below.needed, below.direction, below.urgency > 0n]).to.deep.equal([true, DELEVERAGE, true]);
      expect([above.needed, above.direction, above.urgency]).to.deep.equal([true, LEVERAGE, 0n]);
      expect(pausedStatus.position.healthFactor).to.be.lessThan(DEFAULT_POLICY.minHF);
      expect([pausedStatus.automationPaused, pausedStatus.needed, pausedStatus.direction]).to.deep.equal([
        true,
        false,
        NONE,
      ]);
      expect([empty.needed, empty.direction, empty.position.debtBase]).to.deep.equal([false, NONE, 0n]);
      expect(result.every((s) => s.ok)).to.equal(true);
    });

    it("isolates a vault whose position() reverts: ok=false, zero position, the static views still read", async () => {
      const f = await loadFixture(lensFixture);
      // A zero answer sends Aave's oracle to its fallback, which the local market leaves unset: every account
      // holding WBTC fails `getUserAccountData`.
      await (await f.feeds.WBTC.setAnswer(0)).wait();
      await expect(f.btc.position()).to.be.reverted;
      const positionRevert = await hre.ethers.provider
        .call({ to: await f.btc.getAddress(), data: f.btc.interface.encodeFunctionData("position") })
        .then(
          () => {
            throw new Error("position() did not revert");
          },
          (error: { data?: string }) => error.data ?? "0x",
        );
      const vaults = [f.opened, f.btc, f.empty];
      const result = await f.lens.statuses(await addresses(vaults));
      const btc = result[1];
      expect([btc.ok, btc.revertData]).to.deep.equal([false, positionRevert]);
      expect([...btc.position]).to.deep.equal([0n, 0n, 0n, 0n]);
      expect([btc.needed, btc.direction, btc.amountIn, btc.urgency]).to.deep.equal([false, NONE, 0n, 0n]);
      expect([btc.owner, btc.collateralAsset]).to.deep.equal([await f.btc.owner(), await f.btc.collateralAsset()]);
      expect([...btc.policy]).to.deep.equal([...(await f.btc.policy())]);
      await expectMatches(f, result[0], f.opened);
      await expectMatches(f, result[2], f.empty);
    });

    it("reverts for an address that is not a vault", async () => {
      const f = await loadFixture(lensFixture);
      const [, , alice] = await hre.ethers.getSigners();
      await expect(f.lens.statuses([await f.opened.getAddress(), alice.address])).to.be.reverted;
      await expect(f.lens.statuses([await f.auction.getAddress()])).to.be.reverted;
    });

    it("returns an empty array for no vaults", async () => {
      const f = await loadFixture(lensFixture);
      expect(await f.lens.statuses([])).to.have.lengthOf(0);
    });
  });

  describe("keeper auction", () => {
    it("reports no auction for vaults never kicked", async () => {
      const f = await loadFixture(lensFixture);
      await movePrice(f, "WETH", 1_600n * ORACLE_BASE_CURRENCY_UNIT);
      const result = await f.lens.statuses(await addresses([f.opened, f.empty]));
      for (const s of result) expect([s.kickedAt, s.rewardBps]).to.deep.equal([0n, 0n]);
      expect(result[0].needed).to.equal(true);
    });

    it("reports a kicked vault's start and current reward, which grows with time, as the auction does", async () => {
      const f = await loadFixture(lensFixture);
      await movePrice(f, "WETH", 1_600n * ORACLE_BASE_CURRENCY_UNIT);
      await (await f.auction.kick(f.opened)).wait();
      const kickedAt = BigInt(await time.latest());
      const vaults = [f.opened, f.btc];
      let result = await f.lens.statuses(await addresses(vaults));
      for (const [i, vault] of vaults.entries()) await expectMatches(f, result[i], vault);
      expect(result[0].kickedAt).to.equal(kickedAt);
      expect(result[0].rewardBps).to.be.greaterThan(0n);
      expect([result[1].kickedAt, result[1].rewardBps]).to.deep.equal([0n, 0n]);
      const atKick = result[0].rewardBps;

      // Halfway along the linear curve (feeds stay fresh: 300 s is within the heartbeat).
      await f.world.advance(300);
      result = await f.lens.statuses(await addresses(vaults));
      for (const [i, vault] of vaults.entries()) await expectMatches(f, result[i], vault);
      expect(result[0].kickedAt).to.equal(kickedAt);
      expect(result[0].rewardBps).to.be.greaterThan(atKick);
    });

    it("clears the auction fields once a keeper executed the auction", async () => {
      const f = await loadFixture(lensFixture);
      const [, , , , , , , keeper] = await hre.ethers.getSigners();
      await movePrice(f, "WETH", 1_600n * ORACLE_BASE_CURRENCY_UNIT);
      await (await f.auction.kick(f.opened)).wait();
      const down = await singleHopPath(f, "WETH", "USDC", 500);
      await (await f.auction.connect(keeper).execute(f.opened, down, MaxUint256, keeper.address)).wait();
      const [status] = await f.lens.statuses([await f.opened.getAddress()]);
      await expectMatches(f, status, f.opened);
      expect([status.kickedAt, status.rewardBps, status.needed, status.ok]).to.deep.equal([0n, 0n, false, true]);
    });

    it("keeps the auction fields of a kicked vault whose sizing reverts (stale feed)", async () => {
      const f = await loadFixture(lensFixture);
      await movePrice(f, "WBTC", ((await f.world.oraclePrice("WBTC")) * 7n) / 10n);
      await (await f.auction.kick(f.btc)).wait();
      const kickedAt = BigInt(await time.latest());
      const staleAt = BigInt((await f.world.now()) - LOCAL_PARAMS.heartbeat - 1);
      await (await f.feeds.WBTC.setRound(await f.world.oraclePrice("WBTC"), staleAt)).wait();
      const [btc] = await f.lens.statuses([await f.btc.getAddress()]);
      expect(btc.ok).to.equal(false);
      expect(PriceGuard__factory.createInterface().parseError(btc.revertData)?.name).to.equal("PriceGuardStalePrice");
      expect(btc.kickedAt).to.equal(kickedAt);
      expect(btc.rewardBps).to.equal(await f.auction.currentRewardBps(f.btc));
      expect(btc.rewardBps).to.be.greaterThan(0n);
    });
  });

  describe("#scan", () => {
    it("reads the factory registry in order", async () => {
      const f = await loadFixture(lensFixture);
      const vaults = [f.opened, f.empty, f.above, f.btc];
      expect(await f.factory.vaultCount()).to.equal(4n);
      const result = await f.lens.scan(f.factory, 0, 4);
      expect(result.map((s) => s.vault)).to.deep.equal(await addresses(vaults));
      for (const [i, vault] of vaults.entries()) await expectMatches(f, result[i], vault);
    });

    it("pages and clamps start and count to vaultCount", async () => {
      const f = await loadFixture(lensFixture);
      const all = await addresses([f.opened, f.empty, f.above, f.btc]);
      const page = async (start: bigint | number, count: bigint | number) =>
        (await f.lens.scan(f.factory, start, count)).map((s) => s.vault);
      expect(await page(0, 2)).to.deep.equal(all.slice(0, 2));
      expect(await page(2, 2)).to.deep.equal(all.slice(2, 4));
      expect(await page(1, 2)).to.deep.equal(all.slice(1, 3));
      expect(await page(3, 10)).to.deep.equal(all.slice(3));
      expect(await page(1, MaxUint256)).to.deep.equal(all.slice(1));
      expect(await page(0, 0)).to.deep.equal([]);
      expect(await page(4, 1)).to.deep.equal([]);
      expect(await page(MaxUint256, MaxUint256)).to.deep.equal([]);
    });

    it("returns an empty array for a factory without vaults", async () => {
      const f = await loadFixture(protocolFixture);
      const lens = await new VaultLens__factory(f.governance).deploy();
      expect(await lens.scan(f.factory, 0, 10)).to.have.lengthOf(0);
    });
  });
});
