import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { encodeBytes32String, getCreateAddress, ZeroAddress, ZeroHash } from "ethers";
import hre from "hardhat";

import {
  BallastVault__factory,
  KeeperAuction__factory,
  MockPriceCapAdapter__factory,
  PriceGuard__factory,
  VaultFactory__factory,
  type KeeperAuction,
} from "../../typechain-types";
import { DEFAULT_POLICY, deployFactory, LOCAL_PARAMS, nextCreateAddress, vaultFactoryLinks } from "../../lib/protocol";
import { protocolFixture } from "../shared/fixtures";

async function factoryFixture() {
  const f = await protocolFixture();
  const [, , alice, bob, stranger] = await hre.ethers.getSigners();
  const weth = await f.tokens.erc20.WETH.getAddress();
  const usdc = await f.tokens.erc20.USDC.getAddress();
  const wbtc = await f.tokens.erc20.WBTC.getAddress();
  return { ...f, alice, bob, stranger, weth, usdc, wbtc };
}
type FactoryFixture = Awaited<ReturnType<typeof factoryFixture>>;

describe("VaultFactory", () => {
  describe("#createVault", () => {
    it("deploys at the predicted address, registers the vault and emits VaultCreated", async () => {
      const f = await loadFixture(factoryFixture);
      const salt = encodeBytes32String("one");
      const predicted = await f.factory.predictVault(f.alice.address, salt);
      expect(await f.factory.isVault(predicted)).to.equal(false);
      await expect(f.factory.connect(f.alice).createVault(f.weth, f.usdc, DEFAULT_POLICY, salt))
        .to.emit(f.factory, "VaultCreated")
        .withArgs(f.alice.address, predicted, f.weth, f.usdc, salt);
      expect(await f.factory.isVault(predicted)).to.equal(true);
      expect(await f.factory.vaultCount()).to.equal(1n);
      expect(await f.factory.vaultAt(0)).to.equal(predicted);
      const vault = BallastVault__factory.connect(predicted, f.alice);
      expect(await vault.owner()).to.equal(f.alice.address);
      expect(await vault.collateralAsset()).to.equal(f.weth);
      expect(await vault.debtAsset()).to.equal(f.usdc);
      // The address depends on (owner, salt): bob's vault with the same salt lands elsewhere.
      const bobs = await f.factory.predictVault(f.bob.address, salt);
      expect(bobs).to.not.equal(predicted);
      await (await f.factory.connect(f.bob).createVault(f.weth, f.usdc, DEFAULT_POLICY, salt)).wait();
      expect(await f.factory.vaultCount()).to.equal(2n);
      expect(await f.factory.vaultAt(1)).to.equal(bobs);
    });

    it("rejects the same (owner, salt) twice with FactoryVaultExists", async () => {
      const f = await loadFixture(factoryFixture);
      await (await f.factory.connect(f.alice).createVault(f.weth, f.usdc, DEFAULT_POLICY, ZeroHash)).wait();
      await expect(f.factory.connect(f.alice).createVault(f.weth, f.usdc, DEFAULT_POLICY, ZeroHash))
        .to.be.revertedWithCustomError(f.factory, "FactoryVaultExists")
        .withArgs(await f.factory.predictVault(f.alice.address, ZeroHash));
    });

    it("rejects a pair that is not allowed with FactoryPairNotAllowed", async () => {
      const f = await loadFixture(factoryFixture);
      await expect(f.factory.connect(f.alice).createVault(f.weth, f.wbtc, DEFAULT_POLICY, ZeroHash))
        .to.be.revertedWithCustomError(f.factory, "FactoryPairNotAllowed")
        .withArgs(f.weth, f.wbtc);
    });
  });

  describe("#setPair", () => {
    it("is governance-only", async () => {
      const f = await loadFixture(factoryFixture);
      await expect(f.factory.connect(f.stranger).setPair(f.weth, f.usdc, false))
        .to.be.revertedWithCustomError(f.factory, "OwnableUnauthorizedAccount")
        .withArgs(f.stranger.address);
    });

    it("rejects invalid pairs with FactoryPairInvalid", async () => {
      const f = await loadFixture(factoryFixture);
      await expect(f.factory.setPair(f.weth, f.weth, true))
        .to.be.revertedWithCustomError(f.factory, "FactoryPairInvalid")
        .withArgs(f.weth, f.weth, "same asset");
      await expect(f.factory.setPair(f.usdc, f.weth, true))
        .to.be.revertedWithCustomError(f.factory, "FactoryPairInvalid")
        .withArgs(f.usdc, f.weth, "collateral not usable on Aave");
      await expect(f.factory.setPair(f.weth, f.wbtc, true))
        .to.be.revertedWithCustomError(f.factory, "FactoryPairInvalid")
        .withArgs(f.weth, f.wbtc, "no TWAP reference pool");
      await expect(f.factory.setPair(ZeroAddress, f.usdc, true)).to.be.revertedWithCustomError(
        f.factory,
        "FactoryZeroAddress",
      );
    });

    it("allows and disallows a pair", async () => {
      const f = await loadFixture(factoryFixture);
      await expect(f.factory.setPair(f.weth, f.usdc, false))
        .to.emit(f.factory, "PairSet")
        .withArgs(f.weth, f.usdc, false);
      expect(await f.factory.isPairAllowed(f.weth, f.usdc)).to.equal(false);
      await expect(f.factory.connect(f.alice).createVault(f.weth, f.usdc, DEFAULT_POLICY, ZeroHash))
        .to.be.revertedWithCustomError(f.factory, "FactoryPairNotAllowed")
        .withArgs(f.weth, f.usdc);
    });
  });

  describe("#setPolicyBounds", () => {
    it("rejects bounds outside the hard limits with FactoryBoundsInvalid", async () => {
      const f = await loadFixture(factoryFixture);
      const b = LOCAL_PARAMS.bounds;
      const cases = [
        { ...b, minHFFloor: 10n ** 18n },
        { ...b, maxHFCeiling: 11n * 10n ** 18n },
        { ...b, minBandGap: 10n ** 15n, hfTolerance: 10n ** 15n },
        { ...b, maxSlippageBpsCap: 1_001 },
        { ...b, maxKeeperRewardBpsCap: 1_001 },
        { ...b, hfTolerance: 10n ** 14n },
        { ...b, hfTolerance: b.minBandGap },
        { ...b, minHFFloor: 4n * 10n ** 18n, maxHFCeiling: 4n * 10n ** 18n + 9n * 10n ** 16n },
      ];
      for (const bounds of cases) {
        await expect(f.factory.setPolicyBounds(bounds)).to.be.revertedWithCustomError(
          f.factory,
          "FactoryBoundsInvalid",
        );
      }
      await expect(f.factory.connect(f.stranger).setPolicyBounds(b))
        .to.be.revertedWithCustomError(f.factory, "OwnableUnauthorizedAccount")
        .withArgs(f.stranger.address);
      await expect(f.factory.setPolicyBounds(b)).to.emit(f.factory, "PolicyBoundsSet");
    });
  });

  describe("#setLeveragePaused", () => {
    it("is guardian-only", async () => {
      const f = await loadFixture(factoryFixture);
      for (const caller of [f.stranger, f.governance]) {
        await expect(f.factory.connect(caller).setLeveragePaused(true))
          .to.be.revertedWithCustomError(f.factory, "FactoryNotGuardian")
          .withArgs(caller.address);
      }
      await expect(f.factory.connect(f.guardian).setLeveragePaused(true))
        .to.emit(f.factory, "LeveragePaused")
        .withArgs(true);
      expect(await f.factory.leveragePaused()).to.equal(true);
    });
  });

  describe("#setGuardian", () => {
    it("rejects zero and strangers, and hands the pause to the new guardian", async () => {
      const f = await loadFixture(factoryFixture);
      await expect(f.factory.setGuardian(ZeroAddress)).to.be.revertedWithCustomError(f.factory, "FactoryZeroAddress");
      await expect(f.factory.connect(f.stranger).setGuardian(f.stranger.address))
        .to.be.revertedWithCustomError(f.factory, "OwnableUnauthorizedAccount")
        .withArgs(f.stranger.address);
      await expect(f.factory.setGuardian(f.bob.address)).to.emit(f.factory, "GuardianSet").withArgs(f.bob.address);
      await expect(f.factory.connect(f.guardian).setLeveragePaused(true))
        .to.be.revertedWithCustomError(f.factory, "FactoryNotGuardian")
        .withArgs(f.guardian.address);
      await (await f.factory.connect(f.bob).setLeveragePaused(true)).wait();
    });
  });

  describe("constructor", () => {
    /** An auction naming the factory the next deployment from governance would create. */
    async function nextAuction(f: FactoryFixture): Promise<KeeperAuction> {
      return new KeeperAuction__factory(f.governance).deploy(
        await nextCreateAddress(f.governance, 1),
        LOCAL_PARAMS.auction,
      );
    }

    it("rejects a zero pool, executor, price guard, forwarder, guardian or auction with FactoryZeroAddress", async () => {
      const f = await loadFixture(factoryFixture);
      const deployer = new VaultFactory__factory(vaultFactoryLinks(f.libraries), f.governance);
      const auction = await nextAuction(f);
      const args = {
        pool: await f.aave.pool.getAddress(),
        executor: await f.executor.getAddress(),
        priceGuard: await f.priceGuard.getAddress(),
        forwarder: await f.forwarder.getAddress(),
        guardian: f.guardian.address,
        auction: await auction.getAddress(),
      };
      const nonce = await f.governance.getNonce();
      const keys = ["pool", "executor", "priceGuard", "forwarder", "guardian", "auction"] as const;
      for (const key of keys) {
        const a = { ...args, [key]: ZeroAddress };
        await expect(
          deployer.deploy(
            a.pool,
            a.executor,
            a.priceGuard,
            a.forwarder,
            f.governance.address,
            a.guardian,
            LOCAL_PARAMS.bounds,
            a.auction,
          ),
          key,
        ).to.be.revertedWithCustomError(deployer, "FactoryZeroAddress");
      }
      // Each failed deployment left no code at the address it would have created.
      for (let i = 0; i < keys.length; i++) {
        const address = getCreateAddress({ from: f.governance.address, nonce: nonce + i });
        expect(await hre.ethers.provider.getCode(address)).to.equal("0x");
      }
    });

    it("rejects an auction that names another factory with FactoryAuctionMismatch", async () => {
      const f = await loadFixture(factoryFixture);
      const deployer = new VaultFactory__factory(vaultFactoryLinks(f.libraries), f.governance);
      // The live auction names the live factory; another names an address that is no factory at all.
      const stale = await new KeeperAuction__factory(f.governance).deploy(
        await f.executor.getAddress(),
        LOCAL_PARAMS.auction,
      );
      for (const [auction, named] of [
        [f.auction, await f.factory.getAddress()],
        [stale, await stale.FACTORY()],
      ] as const) {
        await expect(
          deployer.deploy(
            f.aave.pool,
            f.executor,
            f.priceGuard,
            f.forwarder,
            f.governance.address,
            f.guardian.address,
            LOCAL_PARAMS.bounds,
            auction,
          ),
        )
          .to.be.revertedWithCustomError(deployer, "FactoryAuctionMismatch")
          .withArgs(await auction.getAddress(), named);
      }
      // Named right, it deploys, and its vaults trust that auction.
      const { factory, auction } = await deployFactory(f.governance, f.libraries, {
        pool: f.aave.pool,
        executor: f.executor,
        priceGuard: f.priceGuard,
        forwarder: f.forwarder,
        governance: f.governance.address,
        guardian: f.guardian.address,
        bounds: LOCAL_PARAMS.bounds,
      });
      expect(await factory.AUCTION()).to.equal(await auction.getAddress());
      expect(await auction.FACTORY()).to.equal(await factory.getAddress());
    });

    it("rejects bounds outside the hard limits with FactoryBoundsInvalid", async () => {
      const f = await loadFixture(factoryFixture);
      const deployer = new VaultFactory__factory(vaultFactoryLinks(f.libraries), f.governance);
      const bounds = { ...LOCAL_PARAMS.bounds, hfTolerance: LOCAL_PARAMS.bounds.minBandGap };
      const auction = await nextAuction(f);
      await expect(
        deployer.deploy(
          f.aave.pool,
          f.executor,
          f.priceGuard,
          f.forwarder,
          f.governance.address,
          f.guardian.address,
          bounds,
          auction,
        ),
      ).to.be.revertedWithCustomError(deployer, "FactoryBoundsInvalid");
    });
  });

  describe("#setPair reserve and oracle checks", () => {
    it("rejects a debt asset Aave does not lend with FactoryPairInvalid", async () => {
      const f = await loadFixture(factoryFixture);
      await (await f.factory.setPair(f.wbtc, f.usdc, false)).wait();
      await (await f.aave.configurator.connect(f.accounts.admin).setReserveBorrowing(f.usdc, false)).wait();
      await expect(f.factory.setPair(f.wbtc, f.usdc, true))
        .to.be.revertedWithCustomError(f.factory, "FactoryPairInvalid")
        .withArgs(f.wbtc, f.usdc, "debt asset not borrowable on Aave");
      expect(await f.factory.isPairAllowed(f.wbtc, f.usdc)).to.equal(false);
    });

    it("rejects a pair the price guard has no heartbeat for with FactoryPairInvalid", async () => {
      const f = await loadFixture(factoryFixture);
      // A fresh guard, with the reference pool but no heartbeats, behind a fresh factory.
      const guard = await new PriceGuard__factory(f.governance).deploy(
        f.aave.oracle,
        f.uniswap.factory,
        f.governance.address,
        LOCAL_PARAMS.twapWindow,
        LOCAL_PARAMS.maxTwapDeviationBps,
      );
      await (await guard.setReferencePool(f.weth, f.usdc, 500)).wait();
      const { factory } = await deployFactory(f.governance, f.libraries, {
        pool: f.aave.pool,
        executor: f.executor,
        priceGuard: guard,
        forwarder: f.forwarder,
        governance: f.governance.address,
        guardian: f.guardian.address,
        bounds: LOCAL_PARAMS.bounds,
      });
      await expect(factory.setPair(f.weth, f.usdc, true))
        .to.be.revertedWithCustomError(factory, "FactoryPairInvalid")
        .withArgs(f.weth, f.usdc, "no oracle heartbeat");
      // With the collateral's heartbeat alone, the debt asset's is still missing.
      await (await guard.setHeartbeat(f.weth, LOCAL_PARAMS.heartbeat)).wait();
      await expect(factory.setPair(f.weth, f.usdc, true))
        .to.be.revertedWithCustomError(factory, "FactoryPairInvalid")
        .withArgs(f.weth, f.usdc, "no oracle heartbeat");
      expect(await factory.isPairAllowed(f.weth, f.usdc)).to.equal(false);
    });

    it("refuses a pair the guard cannot price now with the guard's error, and allows it once it can (BAL-04)", async () => {
      const f = await loadFixture(factoryFixture);
      await (await f.factory.setPair(f.weth, f.usdc, false)).wait();
      // A CAPO-like USDC source without latestRoundData, as on today's mainnet market.
      const adapter = await new MockPriceCapAdapter__factory(f.governance).deploy(f.feeds.USDC, 104_000_000n);
      await (await f.aave.oracle.setAssetSources([f.usdc], [adapter])).wait();
      await expect(f.factory.setPair(f.weth, f.usdc, true))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardNoRoundData")
        .withArgs(f.usdc, await adapter.getAddress());
      expect(await f.factory.isPairAllowed(f.weth, f.usdc)).to.equal(false);

      // With the freshness feed set, a stale WETH round is the next refusal; disallowing never reads a price.
      await (await f.priceGuard.setFreshnessFeed(f.usdc, f.feeds.USDC)).wait();
      const heartbeat = await f.priceGuard.heartbeat(f.weth);
      await f.world.advance(Number(heartbeat) + 1);
      const [, , , updatedAt] = await f.feeds.WETH.latestRoundData();
      await expect(f.factory.setPair(f.weth, f.usdc, true))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardStalePrice")
        .withArgs(f.weth, updatedAt, heartbeat);
      await expect(f.factory.setPair(f.wbtc, f.usdc, false))
        .to.emit(f.factory, "PairSet")
        .withArgs(f.wbtc, f.usdc, false);
      expect(await f.factory.isPairAllowed(f.weth, f.usdc)).to.equal(false);

      await f.world.refreshOracles();
      await expect(f.factory.setPair(f.weth, f.usdc, true))
        .to.emit(f.factory, "PairSet")
        .withArgs(f.weth, f.usdc, true);
      expect(await f.factory.isPairAllowed(f.weth, f.usdc)).to.equal(true);
    });
  });
});
