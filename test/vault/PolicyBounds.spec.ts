/**
 * Outside review R6: lowering the factory's policy bounds used never to reach existing vaults, whose `rebalance` used
 * the stored policy as it was. Now `rebalance` (and the keeper auction's band and premium) apply the stored policy
 * within the factory's current bounds (`VaultFactory.boundedPolicy`): the slippage and the premium at most the caps,
 * `minHF` at least the floor.
 */
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { MaxUint256, parseUnits } from "ethers";

import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { DEFAULT_POLICY, LOCAL_PARAMS } from "../../lib/protocol";
import { VaultLens__factory } from "../../typechain-types";
import {
  expectExecutorClean,
  expectUnchanged,
  movePrice,
  openVaultFixture,
  snapshotState,
  TARGET_HF,
  type VaultFixture,
} from "../shared/vault";

const TOLERANCE = LOCAL_PARAMS.bounds.hfTolerance;
const STORED_MIN = BigInt(DEFAULT_POLICY.minHF);
const RAISED_FLOOR = parseUnits("1.4", 18);

/** Alice's vault after WETH fell 2,000 -> 1,800: HF about 1.35, inside her stored band (1.3 to 1.8). */
async function sagFixture(): Promise<VaultFixture> {
  const f = await openVaultFixture();
  await movePrice(f, "WETH", 1_800n * ORACLE_BASE_CURRENCY_UNIT);
  return f;
}

async function setBounds(f: VaultFixture, changes: Partial<typeof LOCAL_PARAMS.bounds>): Promise<void> {
  await (await f.factory.connect(f.governance).setPolicyBounds({ ...LOCAL_PARAMS.bounds, ...changes })).wait();
}

describe("Policy bounds reach existing vaults (R6)", () => {
  describe("VaultFactory#boundedPolicy", () => {
    it("clamps both slippage bounds and the premium to the caps and raises minHF to the floor, the rest as stored", async () => {
      const f = await loadFixture(openVaultFixture);
      const stored = [...(await f.vault.policy())];
      expect(stored).to.deep.equal(Object.values(DEFAULT_POLICY).map(BigInt));
      expect([...(await f.factory.boundedPolicy(DEFAULT_POLICY))]).to.deep.equal(stored);
      await setBounds(f, { minHFFloor: RAISED_FLOOR, maxSlippageBpsCap: 10, maxKeeperRewardBpsCap: 20 });
      const bounded = await f.factory.boundedPolicy(DEFAULT_POLICY);
      expect([...bounded]).to.deep.equal([RAISED_FLOOR, stored[1], stored[2], 10n, 20n, stored[5], stored[6], 10n]);
      // The stored policy itself is untouched.
      expect([...(await f.vault.policy())]).to.deep.equal(stored);
    });
  });

  describe("a raised minHF floor", () => {
    it("was ignored: at HF 1.35, inside the stored band, rebalance reverts VaultInBand", async () => {
      const f = await loadFixture(sagFixture);
      const hf = (await f.vault.position()).healthFactor;
      expect(hf)
        .to.be.gt(RAISED_FLOOR - parseUnits("0.1", 18))
        .and.lt(RAISED_FLOOR);
      const before = await snapshotState(f);
      await expect(f.vault.connect(f.keeper).rebalance(f.down, MaxUint256))
        .to.be.revertedWithCustomError(f.vault, "VaultInBand")
        .withArgs(hf, STORED_MIN, DEFAULT_POLICY.maxHF);
      await expectUnchanged(f, before);
    });

    it("now reaches the vault: the same HF is below the floor, so a keeper deleverages it to the target", async () => {
      const f = await loadFixture(sagFixture);
      expect((await f.vault.rebalanceNeeded()).needed).to.equal(false);
      await setBounds(f, { minHFFloor: RAISED_FLOOR });
      // `rebalanceNeeded` (which the lens reads) agrees with `rebalance`.
      const [needed, direction] = await f.vault.rebalanceNeeded();
      expect([needed, direction]).to.deep.equal([true, 1n]);
      await expect(f.vault.connect(f.keeper).rebalance(f.down, MaxUint256)).to.emit(f.vault, "Rebalanced");
      const hf = (await f.vault.position()).healthFactor;
      expect(hf > TARGET_HF ? hf - TARGET_HF : TARGET_HF - hf).to.be.lte(TOLERANCE);
      await expectExecutorClean(f);
    });

    it("and reaches the keeper auction: kick accepts the vault (before: AuctionNotNeeded)", async () => {
      const f = await loadFixture(sagFixture);
      await expect(f.auction.connect(f.keeper).kick(f.vault))
        .to.be.revertedWithCustomError(f.auction, "AuctionNotNeeded")
        .withArgs(await f.vault.getAddress());
      await setBounds(f, { minHFFloor: RAISED_FLOOR });
      await expect(f.auction.connect(f.keeper).kick(f.vault)).to.emit(f.auction, "Kicked");
      expect((await f.auction.auctionOf(f.vault)).direction).to.equal(1n);
    });
  });

  describe("the lens under a raised minHF floor", () => {
    it("reports the vault needed, as rebalanceNeeded does, in statuses and scan (before: in band, not needed)", async () => {
      const f = await loadFixture(sagFixture);
      const lens = await new VaultLens__factory(f.governance).deploy();
      const read = async () => {
        const [status] = await lens.statuses([f.vault]);
        const [scanned] = await lens.scan(f.factory, 0, 1);
        return { status, scanned, own: await f.vault.rebalanceNeeded() };
      };
      const before = await read();
      expect([before.status.needed, before.scanned.needed, before.own.needed]).to.deep.equal([false, false, false]);
      await setBounds(f, { minHFFloor: RAISED_FLOOR });
      const after = await read();
      for (const s of [after.status, after.scanned]) {
        expect([s.ok, s.needed, s.direction, s.amountIn, s.urgency]).to.deep.equal([
          true,
          true,
          1n,
          after.own.amountIn,
          after.own.urgency,
        ]);
        // The policy is reported as stored; only the band the lens applies moved.
        expect(s.policy.minHF).to.equal(STORED_MIN);
      }
      expect(after.own.needed).to.equal(true);
    });
  });

  describe("a lowered slippage cap", () => {
    it("bounds the keeper's rebalance: 1 bps cannot pay the pool's 5 bps fee, where the stored 100 bps could", async () => {
      const f = await loadFixture(openVaultFixture);
      await movePrice(f, "WETH", 1_600n * ORACLE_BASE_CURRENCY_UNIT);
      await setBounds(f, { maxSlippageBpsCap: 1 });
      const before = await snapshotState(f);
      await expect(f.vault.connect(f.keeper).rebalance(f.down, MaxUint256)).to.be.revertedWith("Too little received");
      await expectUnchanged(f, before);
      expect((await f.vault.policy()).maxSlippageBps).to.equal(BigInt(DEFAULT_POLICY.maxSlippageBps));
      // Under the old cap the same rebalance runs with the stored bound.
      await setBounds(f, {});
      await expect(f.vault.connect(f.keeper).rebalance(f.down, MaxUint256)).to.emit(f.vault, "Rebalanced");
    });
  });
});
