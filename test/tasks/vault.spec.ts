import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { parseUnits, toBeHex, ZeroHash, zeroPadValue } from "ethers";

import { BallastVault__factory } from "../../typechain-types";
import type { OpenResult } from "../../tasks/vault/open";
import type { CloseResult, PolicyResult, SwitchResult } from "../../tasks/vault/manage";
import type { VaultStatus } from "../../tasks/shared/vault";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { DEFAULT_POLICY } from "../../lib/protocol";
import { movePrice } from "../shared/vault";
import { ALICE, expectNear, expectTaskError, openedFixture, RELAYER, runTask, tasksFixture } from "./helpers";

const WAD = 10n ** 18n;
const TEN = parseUnits("10", 18);

describe("vault tasks", () => {
  describe("vault:open", () => {
    it("--gasless: the owner signs createVault + open, the relayer pays, the owner's ETH is untouched", async () => {
      const f = await loadFixture(tasksFixture);
      const predicted = await f.factory.predictVault(f.alice.address, ZeroHash);
      await f.world.fund("WETH", f.alice.address, TEN);
      await (await f.tokens.erc20.WETH.connect(f.alice).approve(predicted, TEN)).wait();
      const ethBefore = await f.alice.provider.getBalance(f.alice.address);
      const { result, output } = await runTask<OpenResult>("vault:open", {
        amount: "10",
        targetHf: "1.5",
        ownerAccount: ALICE,
        gasless: true,
        relayerAccount: RELAYER,
        deployments: f.book,
      });
      expect(await f.alice.provider.getBalance(f.alice.address)).to.equal(ethBefore);
      expect(result.ownerEthAfter).to.equal(result.ownerEthBefore);
      expect(result.created).to.equal(true);
      expect(result.vault).to.equal(predicted);
      expect(await f.factory.isVault(predicted)).to.equal(true);
      const vault = BallastVault__factory.connect(predicted, f.alice);
      expect(await vault.owner()).to.equal(f.alice.address);
      expectNear((await vault.position()).healthFactor, (15n * WAD) / 10n, parseUnits("0.02", 18), "HF after open");
      expect(await f.forwarder.nonces(f.alice.address)).to.equal(2n);
      expect(output).to.contain("forwarder.executeBatch (createVault + open)");
      expect(output).to.contain("(unchanged: the relayer paid the gas)");
    });

    it("directly, with --approve and a custom band for the new vault", async () => {
      const f = await loadFixture(tasksFixture);
      await f.world.fund("WETH", f.alice.address, TEN);
      const { result } = await runTask<OpenResult>("vault:open", {
        amount: "10",
        targetHf: "1.7",
        minHf: "1.4",
        maxHf: "2",
        approve: true,
        ownerAccount: ALICE,
        deployments: f.book,
      });
      expect(result.transactions).to.have.length(2);
      const vault = BallastVault__factory.connect(result.vault, f.alice);
      expect((await vault.policy()).minHF).to.equal((14n * WAD) / 10n);
      expectNear((await vault.position()).healthFactor, (17n * WAD) / 10n, parseUnits("0.02", 18), "HF after open");
    });

    it("without the allowance, names the exact approve call and sends nothing", async () => {
      const f = await loadFixture(tasksFixture);
      const predicted = await f.factory.predictVault(f.alice.address, ZeroHash);
      await f.world.fund("WETH", f.alice.address, TEN);
      const weth = await f.tokens.erc20.WETH.getAddress();
      await expectTaskError(
        "vault:open",
        { amount: "10", ownerAccount: ALICE, gasless: true, relayerAccount: RELAYER, deployments: f.book },
        new RegExp(`Approve first: WETH\\(${weth}\\)\\.approve\\(${predicted}, ${TEN}\\)`),
      );
      expect(await f.factory.isVault(predicted)).to.equal(false);
    });

    it("without the collateral, says how much is missing and how to fund it", async () => {
      const f = await loadFixture(tasksFixture);
      await expectTaskError(
        "vault:open",
        { amount: "10", ownerAccount: ALICE, deployments: f.book },
        /holds 0 WETH but --amount is 10 WETH: fund it first .*local:fund --token WETH --amount 10/,
      );
    });

    it("refuses a second open, a target outside the band and a band outside the bounds", async () => {
      const f = await loadFixture(openedFixture);
      await expectTaskError(
        "vault:open",
        { amount: "1", targetHf: "1.6", salt: "0", ownerAccount: ALICE, deployments: f.book },
        /already holds a position .*close it first \(vault:close\) or use another --salt/,
      );
      const salt = zeroPadValue(toBeHex(1), 32);
      await (
        await f.factory.connect(f.alice).createVault(f.tokens.erc20.WETH, f.tokens.erc20.USDC, DEFAULT_POLICY, salt)
      ).wait();
      await expectTaskError(
        "vault:open",
        { amount: "1", targetHf: "2.5", salt: "1", ownerAccount: ALICE, deployments: f.book },
        /--target-hf 2\.5000 is outside your band \[1\.3000, 1\.8000\]: pick a target inside it, or change the band/,
      );
      // A new vault takes its target from --target-hf, so the default band's maxHF is too low.
      await expectTaskError(
        "vault:open",
        { amount: "1", targetHf: "2.5", salt: "2", ownerAccount: ALICE, deployments: f.book },
        /Invalid policy: maxHF 1\.8000 must be at least targetHF \+ 0\.0500/,
      );
    });
  });

  describe("vault:status", () => {
    it("shows the owner, policy, USD values and the HF with 4 decimals", async () => {
      const f = await loadFixture(openedFixture);
      const { result, output } = await runTask<VaultStatus>("vault:status", {
        ownerAccount: ALICE,
        deployments: f.book,
      });
      expect(result.vault).to.equal(await f.vault.getAddress());
      expect(output).to.match(/HF\s+1\.(49|50)\d\d \(in band/);
      expect(output).to.contain(`Owner       ${f.alice.address}`);
      expect(output).to.match(/Collateral {2}\$\d{2},\d{3}\.\d{2}/);
      expect(output).to.contain("Rebalance   not needed");
      expect(output).to.contain("Automation  on");
    });

    it("reports a needed deleverage after a price drop", async () => {
      const f = await loadFixture(openedFixture);
      await movePrice(f, "WETH", 1_700n * ORACLE_BASE_CURRENCY_UNIT);
      const { result, output } = await runTask<VaultStatus>("vault:status", {
        vault: await f.vault.getAddress(),
        deployments: f.book,
      });
      expect(result.rebalanceNeeded).to.equal(true);
      expect(result.direction).to.equal("deleverage");
      expect(output).to.match(/below minHF 1\.3000/);
      expect(output).to.match(/Rebalance {3}needed: deleverage, sell ~[\d.]+ WETH, urgency [\d.]+%/);
    });
  });

  describe("vault:policy", () => {
    it("--gasless: a SetPolicy intent relayed to setPolicyBySig, fee 0, owner's ETH untouched", async () => {
      const f = await loadFixture(openedFixture);
      const ethBefore = await f.alice.provider.getBalance(f.alice.address);
      const { result } = await runTask<PolicyResult>("vault:policy", {
        minHf: "1.25",
        maxHf: "1.9",
        maxSlippageBps: 80,
        ownerAccount: ALICE,
        gasless: true,
        relayerAccount: RELAYER,
        deployments: f.book,
      });
      const policy = await f.vault.policy();
      expect(policy.minHF).to.equal((125n * WAD) / 100n);
      expect(policy.maxHF).to.equal((19n * WAD) / 10n);
      expect(policy.maxSlippageBps).to.equal(80n);
      expect(result.policy.minHF).to.equal(policy.minHF);
      expect(await f.alice.provider.getBalance(f.alice.address)).to.equal(ethBefore);
    });

    it("--gasless --max-gas-price-gwei --max-reward-usd: the absolute reward caps, signed and relayed", async () => {
      const f = await loadFixture(openedFixture);
      await runTask<PolicyResult>("vault:policy", {
        maxGasPriceGwei: "350.5",
        maxRewardUsd: "1250.25",
        ownerAccount: ALICE,
        gasless: true,
        relayerAccount: RELAYER,
        deployments: f.book,
      });
      const policy = await f.vault.policy();
      expect(policy.maxGasPrice).to.equal(3_505n * 10n ** 8n);
      expect(policy.maxRewardBase).to.equal(125_025_000_000n);
      await expectTaskError(
        "vault:policy",
        { maxRewardUsd: "0", ownerAccount: ALICE, deployments: f.book },
        /Invalid policy: the max keeper reward must be above \$0/,
      );
      await expectTaskError(
        "vault:policy",
        { maxGasPriceGwei: "1e3", ownerAccount: ALICE, deployments: f.book },
        /--max-gas-price-gwei must be a decimal number with at most 9 decimals/,
      );
      expect((await f.vault.policy()).maxRewardBase).to.equal(125_025_000_000n);
    });

    it("directly, and refuses a band outside the protocol bounds before sending", async () => {
      const f = await loadFixture(openedFixture);
      await runTask("vault:policy", { targetHf: "1.6", ownerAccount: ALICE, deployments: f.book });
      expect((await f.vault.policy()).targetHF).to.equal((16n * WAD) / 10n);
      await expectTaskError(
        "vault:policy",
        { minHf: "1.0", ownerAccount: ALICE, deployments: f.book },
        /Invalid policy: minHF 1\.0000 is below the protocol floor 1\.0500/,
      );
      await expectTaskError(
        "vault:policy",
        { minHf: "1.4", ownerAccount: RELAYER, vault: await f.vault.getAddress(), deployments: f.book },
        /is not the owner .* of vault/,
      );
    });
  });

  describe("vault:close", () => {
    it("--gasless: a Close intent relayed to closeBySig; the owner gets the collateral back without spending ETH", async () => {
      const f = await loadFixture(openedFixture);
      const ethBefore = await f.alice.provider.getBalance(f.alice.address);
      const wethBefore = await f.tokens.erc20.WETH.balanceOf(f.alice.address);
      const usdcBefore = await f.tokens.erc20.USDC.balanceOf(f.relayer.address);
      const { result } = await runTask<CloseResult>("vault:close", {
        ownerAccount: ALICE,
        gasless: true,
        fee: "1",
        relayerAccount: RELAYER,
        deployments: f.book,
      });
      expect((await f.vault.position()).debtBase).to.equal(0n);
      expect(await f.alice.provider.getBalance(f.alice.address)).to.equal(ethBefore);
      expect((await f.tokens.erc20.WETH.balanceOf(f.alice.address)) - wethBefore).to.equal(result.collateralReturned);
      expect(result.collateralReturned > parseUnits("9.8", 18)).to.equal(true);
      expect((await f.tokens.erc20.USDC.balanceOf(f.relayer.address)) - usdcBefore).to.equal(1_000_000n);
    });

    it("directly by the owner", async () => {
      const f = await loadFixture(openedFixture);
      const { result } = await runTask<CloseResult>("vault:close", {
        vault: await f.vault.getAddress(),
        ownerAccount: ALICE,
        feeTier: 3000,
        deployments: f.book,
      });
      expect((await f.vault.position()).collateralBase).to.equal(0n);
      expect(result.collateralReturned > parseUnits("9.7", 18)).to.equal(true);
      await expectTaskError(
        "vault:close",
        { vault: await f.vault.getAddress(), ownerAccount: ALICE, deployments: f.book },
        /holds nothing to close/,
      );
    });
  });

  describe("vault:switch", () => {
    it("directly: moves the collateral into WBTC through both reference pools, keeping the debt", async () => {
      const f = await loadFixture(openedFixture);
      const debtBefore = (await f.vault.position()).debtBase;
      const { result, output } = await runTask<SwitchResult>("vault:switch", {
        to: "WBTC",
        ownerAccount: ALICE,
        deployments: f.book,
      });
      const wbtc = await f.tokens.erc20.WBTC.getAddress();
      expect(await f.vault.collateralAsset()).to.equal(wbtc);
      expect(result.newCollateral).to.equal(wbtc);
      expect(await f.aave.aTokens.WETH.balanceOf(f.vault)).to.equal(0n);
      expect(result.bought > 0n).to.equal(true);
      expectNear((await f.vault.position()).debtBase, debtBefore, debtBefore / 100_000n, "debt kept");
      expect(output).to.contain("WETH -> USDC (0.05% pool) -> WBTC (0.3% pool)");
      expect(output).to.match(/HF \d\.\d+ -> \d\.\d+/);
      await expectTaskError(
        "vault:switch",
        { to: "WBTC", ownerAccount: ALICE, deployments: f.book },
        /already holds WBTC/,
      );
    });

    it("--gasless: a Switch intent relayed to switchCollateralBySig; the relayer takes its fee in WBTC", async () => {
      const f = await loadFixture(openedFixture);
      const ethBefore = await f.alice.provider.getBalance(f.alice.address);
      const { result } = await runTask<SwitchResult>("vault:switch", {
        to: "WBTC",
        ownerAccount: ALICE,
        gasless: true,
        fee: "0.0001",
        relayerAccount: RELAYER,
        deployments: f.book,
      });
      expect(await f.alice.provider.getBalance(f.alice.address)).to.equal(ethBefore);
      expect(await f.tokens.erc20.WBTC.balanceOf(f.relayer.address)).to.equal(10_000n);
      expect(result.hfAfter < result.hfBefore).to.equal(true);
    });

    it("refuses a pair the factory does not allow, before sending anything", async () => {
      const f = await loadFixture(openedFixture);
      await expectTaskError(
        "vault:switch",
        { to: "USDC", ownerAccount: ALICE, deployments: f.book },
        /USDC\/USDC is not a pair the factory allows.*VaultFactory.setPair/,
      );
    });
  });
});
