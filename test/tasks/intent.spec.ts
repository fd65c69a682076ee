import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fs from "node:fs";
import { parseUnits, Wallet } from "ethers";

import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import type { SignedPayload } from "../../tasks/intent/payload";
import type { RelayResult } from "../../tasks/intent/relay";
import { readPolicy } from "../../tasks/shared/vault";
import { movePrice } from "../shared/vault";
import { ALICE, expectNear, expectTaskError, openedFixture, RELAYER, runTask, tmpFile } from "./helpers";

const WAD = 10n ** 18n;

describe("intent:sign and intent:relay", () => {
  describe("SetPolicy", () => {
    it("round-trips through a file: the policy changes and the relayer takes its fee", async () => {
      const f = await loadFixture(openedFixture);
      const out = tmpFile("set-policy.json");
      const vault = await f.vault.getAddress();
      await runTask("intent:sign", {
        kind: "set-policy",
        account: ALICE,
        vault,
        minHf: "1.35",
        maxHf: "1.9",
        feeToken: "usdc",
        maxFee: "5",
        out,
        deployments: f.book,
      });
      const json = JSON.parse(fs.readFileSync(out, "utf8")) as Record<string, unknown>;
      expect(json.kind).to.equal("SetPolicy");
      expect(json.chainId).to.equal("31337");
      expect(json.vault).to.equal(vault);
      expect(json.signer).to.equal(f.alice.address);
      expect((json.message as { policy: { minHF: string } }).policy.minHF).to.equal((135n * WAD) / 100n + "");

      const usdcBefore = await f.tokens.erc20.USDC.balanceOf(f.relayer.address);
      const { result, output } = await runTask<RelayResult>("intent:relay", {
        file: out,
        fee: "2",
        relayerAccount: RELAYER,
        deployments: f.book,
      });
      const policy = await f.vault.policy();
      expect(policy.minHF).to.equal((135n * WAD) / 100n);
      expect(policy.targetHF).to.equal((150n * WAD) / 100n);
      expect(policy.maxHF).to.equal((190n * WAD) / 100n);
      expect((await f.tokens.erc20.USDC.balanceOf(f.relayer.address)) - usdcBefore).to.equal(2_000_000n);
      expect(result.fee?.amount).to.equal(2_000_000n);
      expect(result.gasUsed > 0n).to.equal(true);
      expect(output).to.match(/setPolicyBySig: tx 0x[0-9a-f]{64} \(gas [\d,]+\)/);
      expect(output).to.contain("fee received: 2 USDC");

      // The same file again: its nonce is spent, and the task says so before sending anything.
      await expectTaskError(
        "intent:relay",
        { file: out, relayerAccount: RELAYER, deployments: f.book },
        /nonce \d+ was already used or cancelled.*nothing was sent/,
      );
    });

    it("prints the JSON on stdout without --out, bigints as decimal strings", async () => {
      const f = await loadFixture(openedFixture);
      const { output, result } = await runTask<SignedPayload>("intent:sign", {
        kind: "set-policy",
        account: ALICE,
        vault: await f.vault.getAddress(),
        maxSlippageBps: 50,
        nonce: "42",
        deployments: f.book,
      });
      const json = JSON.parse(output.slice(output.indexOf("{"))) as { message: Record<string, unknown> };
      expect(json.message.nonce).to.equal("42");
      expect(json.message.maxFee).to.equal("0");
      expect(result.kind).to.equal("SetPolicy");
    });
  });

  describe("Rebalance", () => {
    it("after a price drop, the relayer delevers the vault to the signed target and takes its reward", async () => {
      const f = await loadFixture(openedFixture);
      await movePrice(f, "WETH", 1_700n * ORACLE_BASE_CURRENCY_UNIT);
      const before = await f.vault.position();
      expect(before.healthFactor < (13n * WAD) / 10n, "HF fell below minHF").to.equal(true);
      const out = tmpFile("rebalance.json");
      await runTask("intent:sign", {
        kind: "rebalance",
        account: ALICE,
        vault: await f.vault.getAddress(),
        targetHf: "1.5",
        rewardToken: "USDC",
        maxReward: "10",
        out,
        deployments: f.book,
      });
      const usdcBefore = await f.tokens.erc20.USDC.balanceOf(f.relayer.address);
      const { result, output } = await runTask<RelayResult>("intent:relay", {
        file: out,
        feeTier: 500,
        relayerAccount: RELAYER,
        deployments: f.book,
      });
      const after = await f.vault.position();
      expectNear(after.healthFactor, (15n * WAD) / 10n, parseUnits("0.02", 18), "HF after the rebalance");
      expect(after.debtBase < before.debtBase).to.equal(true);
      // --fee left out: the relayer takes the signed maximum.
      expect((await f.tokens.erc20.USDC.balanceOf(f.relayer.address)) - usdcBefore).to.equal(10_000_000n);
      expect(result.fee?.amount).to.equal(10_000_000n);
      expect(output).to.contain("deleverage");
      expect(output).to.contain("reward received: 10 USDC");
    });
  });

  describe("Close", () => {
    it("unwinds the vault, pays the relayer in WETH and returns the rest to the owner", async () => {
      const f = await loadFixture(openedFixture);
      const out = tmpFile("close.json");
      await runTask("intent:sign", {
        kind: "close",
        account: ALICE,
        vault: await f.vault.getAddress(),
        feeToken: "WETH",
        maxFee: "0.01",
        out,
        deployments: f.book,
      });
      const aliceWeth = await f.tokens.erc20.WETH.balanceOf(f.alice.address);
      const relayerWeth = await f.tokens.erc20.WETH.balanceOf(f.relayer.address);
      await runTask("intent:relay", { file: out, fee: "0.005", relayerAccount: RELAYER, deployments: f.book });
      const position = await f.vault.position();
      expect(position.debtBase).to.equal(0n);
      expect(position.collateralBase).to.equal(0n);
      expect((await f.tokens.erc20.WETH.balanceOf(f.relayer.address)) - relayerWeth).to.equal(parseUnits("0.005", 18));
      // 10 WETH went in at 2.2x leverage; after swap costs the owner gets back a little less.
      const returned = (await f.tokens.erc20.WETH.balanceOf(f.alice.address)) - aliceWeth;
      expect(returned > parseUnits("9.8", 18) && returned < parseUnits("10", 18), `returned ${returned}`).to.equal(
        true,
      );
    });
  });

  describe("Switch", () => {
    it("moves the vault's collateral into WBTC and pays the relayer in WBTC", async () => {
      const f = await loadFixture(openedFixture);
      const out = tmpFile("switch.json");
      const { result: signed } = await runTask<SignedPayload>("intent:sign", {
        kind: "switch",
        account: ALICE,
        vault: await f.vault.getAddress(),
        newCollateral: "WBTC",
        maxFee: "0.0002",
        out,
        deployments: f.book,
      });
      expect(signed.kind).to.equal("Switch");
      const { output } = await runTask<RelayResult>("intent:relay", {
        file: out,
        fee: "0.0001",
        relayerAccount: RELAYER,
        deployments: f.book,
      });
      expect(await f.vault.collateralAsset()).to.equal(await f.tokens.erc20.WBTC.getAddress());
      expect(await f.tokens.erc20.WBTC.balanceOf(f.relayer.address)).to.equal(10_000n);
      expect(output).to.contain("route: WETH -> USDC (0.05% pool) -> WBTC (0.3% pool)");
      expect(output).to.contain("fee received: 0.0001 WBTC");
    });

    it("refuses to sign a switch the vault would refuse, naming why", async () => {
      const f = await loadFixture(openedFixture);
      await expectTaskError(
        "intent:sign",
        {
          kind: "switch",
          account: ALICE,
          vault: await f.vault.getAddress(),
          newCollateral: "WETH",
          deployments: f.book,
        },
        /VaultSwitchNotAllowed/,
      );
      await expectTaskError(
        "intent:sign",
        { kind: "switch", account: ALICE, vault: await f.vault.getAddress(), deployments: f.book },
        /--kind switch needs --new-collateral/,
      );
    });
  });

  describe("ForwardRequest", () => {
    it("--call pause: the owner's signed request goes through the forwarder and pauses automation", async () => {
      const f = await loadFixture(openedFixture);
      const out = tmpFile("forward.json");
      const { result: signed } = await runTask<SignedPayload>("intent:sign", {
        kind: "forward",
        account: ALICE,
        vault: await f.vault.getAddress(),
        call: "pause",
        out,
        deployments: f.book,
      });
      expect(signed.kind).to.equal("ForwardRequest");
      const json = JSON.parse(fs.readFileSync(out, "utf8")) as {
        kind: string;
        forwarder: string;
        request: { from: string };
      };
      expect(json.kind).to.equal("ForwardRequest");
      expect(json.forwarder).to.equal(await f.forwarder.getAddress());
      expect(json.request.from).to.equal(f.alice.address);

      const { result } = await runTask<RelayResult>("intent:relay", {
        file: out,
        via: "forwarder",
        relayerAccount: RELAYER,
        deployments: f.book,
      });
      expect(await f.vault.automationPaused()).to.equal(true);
      expect(await f.forwarder.nonces(f.alice.address)).to.equal(1n);
      expect(result.forwarded).to.deep.equal([true]);
    });

    it("--to/--data for the factory: a vault created by a signer with no ETH", async () => {
      const f = await loadFixture(openedFixture);
      const key = `0x${"42".repeat(32)}`;
      const owner = new Wallet(key);
      const data = f.factory.interface.encodeFunctionData("createVault", [
        await f.tokens.erc20.WETH.getAddress(),
        await f.tokens.erc20.USDC.getAddress(),
        {
          minHF: parseUnits("1.3", 18),
          targetHF: parseUnits("1.5", 18),
          maxHF: parseUnits("1.8", 18),
          maxSlippageBps: 100,
          maxKeeperRewardBps: 100,
          maxGasPrice: parseUnits("2000", "gwei"),
          maxRewardBase: 5_000n * 10n ** 8n,
          urgentSlippageBps: 300,
        },
        `0x${"00".repeat(31)}07`,
      ]);
      const out = tmpFile("forward-create.json");
      await runTask("intent:sign", {
        kind: "forward",
        key,
        to: await f.factory.getAddress(),
        data,
        out,
        deployments: f.book,
      });
      await runTask("intent:relay", { file: out, relayerAccount: RELAYER, deployments: f.book });
      expect(await f.factory.isVault(await f.factory.predictVault(owner.address, `0x${"00".repeat(31)}07`))).to.equal(
        true,
      );
      expect(await f.relayer.provider.getBalance(owner.address)).to.equal(0n);
    });
  });

  describe("fields binding what an intent acts on (issue 16)", () => {
    it("SetPolicy signs the policy version; relaying it after another policy change is refused before sending", async () => {
      const f = await loadFixture(openedFixture);
      const out = tmpFile("stale.json");
      const vault = await f.vault.getAddress();
      const { result } = await runTask<SignedPayload>("intent:sign", {
        kind: "set-policy",
        account: ALICE,
        vault,
        minHf: "1.35",
        out,
        deployments: f.book,
      });
      if (result.kind !== "SetPolicy") throw new Error("expected a SetPolicy intent");
      expect(result.message.version).to.equal(await f.vault.policyVersion());
      const same = await readPolicy(f.vault);
      // Even a change to the same values is a change: the version moves on.
      await (await f.vault.connect(f.alice).setPolicy(same)).wait();
      await expectTaskError(
        "intent:relay",
        { file: out, relayerAccount: RELAYER, deployments: f.book },
        /signed against policy version 1 but vault .* is at 2: .*VaultPolicyVersionStale.*nothing was sent/,
      );
    });

    it("Rebalance signs --direction; a fill the other way is refused before sending", async () => {
      const f = await loadFixture(openedFixture);
      await movePrice(f, "WETH", 1_700n * ORACLE_BASE_CURRENCY_UNIT);
      const out = tmpFile("wrong-way.json");
      const vault = await f.vault.getAddress();
      const { result } = await runTask<SignedPayload>("intent:sign", {
        kind: "rebalance",
        account: ALICE,
        vault,
        targetHf: "1.5",
        direction: "leverage",
        out,
        deployments: f.book,
      });
      if (result.kind !== "Rebalance") throw new Error("expected a Rebalance intent");
      expect(result.message.direction).to.equal(2n);
      await expectTaskError(
        "intent:relay",
        { file: out, feeTier: 500, relayerAccount: RELAYER, deployments: f.book },
        /signed to leverage but at HF .* would deleverage: .*VaultIntentDirection.*nothing was sent/,
      );
      // By default the direction is the move the HF makes now: a deleverage here.
      const { result: byDefault } = await runTask<SignedPayload>("intent:sign", {
        kind: "rebalance",
        account: ALICE,
        vault,
        targetHf: "1.5",
        deployments: f.book,
      });
      if (byDefault.kind !== "Rebalance") throw new Error("expected a Rebalance intent");
      expect(byDefault.message.direction).to.equal(1n);
      await expectTaskError(
        "intent:sign",
        { kind: "rebalance", account: ALICE, vault, targetHf: "1.5", direction: "up", deployments: f.book },
        /--direction must be deleverage or leverage, got "up"/,
      );
    });

    it("Close signs --max-slippage-bps (default: the policy's), at most the protocol cap", async () => {
      const f = await loadFixture(openedFixture);
      const vault = await f.vault.getAddress();
      const { result } = await runTask<SignedPayload>("intent:sign", {
        kind: "close",
        account: ALICE,
        vault,
        maxSlippageBps: 25,
        deployments: f.book,
      });
      if (result.kind !== "Close") throw new Error("expected a Close intent");
      expect(result.message.maxSlippageBps).to.equal(25n);
      const { result: byDefault } = await runTask<SignedPayload>("intent:sign", {
        kind: "close",
        account: ALICE,
        vault,
        deployments: f.book,
      });
      if (byDefault.kind !== "Close") throw new Error("expected a Close intent");
      expect(byDefault.message.maxSlippageBps).to.equal((await f.vault.policy()).maxSlippageBps);
      const cap = (await f.factory.policyBounds()).maxSlippageBpsCap;
      await expectTaskError(
        "intent:sign",
        { kind: "close", account: ALICE, vault, maxSlippageBps: Number(cap) + 1, deployments: f.book },
        new RegExp(`--max-slippage-bps ${Number(cap) + 1} is above the protocol cap ${cap}`),
      );
    });
  });

  describe("bad input", () => {
    it("refuses both --key and --account", async () => {
      const f = await loadFixture(openedFixture);
      await expectTaskError(
        "intent:sign",
        {
          kind: "close",
          key: `0x${"11".repeat(32)}`,
          account: ALICE,
          vault: await f.vault.getAddress(),
          deployments: f.book,
        },
        /Pass either --key or --account, not both/,
      );
    });

    it("refuses a signer that is not the vault's owner", async () => {
      const f = await loadFixture(openedFixture);
      await expectTaskError(
        "intent:sign",
        { kind: "close", account: RELAYER, vault: await f.vault.getAddress(), deployments: f.book },
        /is not the owner .* sign with the owner's --key or --account/,
      );
    });

    it("refuses an unknown token symbol and names the known ones", async () => {
      const f = await loadFixture(openedFixture);
      await expectTaskError(
        "intent:sign",
        { kind: "close", account: ALICE, vault: await f.vault.getAddress(), feeToken: "DAI", deployments: f.book },
        /Unknown token "DAI" for --fee-token: use one of WETH, WBTC, USDC/,
      );
    });

    it("refuses flags of another kind", async () => {
      const f = await loadFixture(openedFixture);
      await expectTaskError(
        "intent:sign",
        { kind: "close", account: ALICE, vault: await f.vault.getAddress(), minHf: "1.2", deployments: f.book },
        /--min-hf does not apply to --kind close/,
      );
    });

    it("an expired intent is refused before anything is sent", async () => {
      const f = await loadFixture(openedFixture);
      const out = tmpFile("expired.json");
      const { result } = await runTask<SignedPayload>("intent:sign", {
        kind: "set-policy",
        account: ALICE,
        vault: await f.vault.getAddress(),
        minHf: "1.35",
        deadline: 60,
        out,
        deployments: f.book,
      });
      await time.increase(120);
      const block = await f.relayer.provider.getBlockNumber();
      await expectTaskError(
        "intent:relay",
        { file: out, relayerAccount: RELAYER, deployments: f.book },
        /expired at .* ago, chain time\): nothing was sent; ask the signer for a new one/,
      );
      expect(await f.relayer.provider.getBlockNumber()).to.equal(block);
      if (result.kind !== "SetPolicy") throw new Error("unexpected kind");
      expect(await f.vault.nonceUsed(f.alice.address, result.message.nonce)).to.equal(false);
    });

    it("a revert is decoded into what to do: a fee that would leave the HF below minHF", async () => {
      const f = await loadFixture(openedFixture);
      await movePrice(f, "WETH", 1_700n * ORACLE_BASE_CURRENCY_UNIT);
      const out = tmpFile("fee-below-min.json");
      await runTask("intent:sign", {
        kind: "set-policy",
        account: ALICE,
        vault: await f.vault.getAddress(),
        maxSlippageBps: 90,
        maxFee: "100",
        out,
        deployments: f.book,
      });
      await expectTaskError(
        "intent:relay",
        { file: out, relayerAccount: RELAYER, deployments: f.book },
        /setPolicyBySig failed: HF 1\.2\d{3} is below your minHF 1\.3000: rebalance first/,
      );
    });

    it("a forward request signed for a later nonce says which ones to relay first", async () => {
      const f = await loadFixture(openedFixture);
      const out = tmpFile("ahead.json");
      await runTask("intent:sign", {
        kind: "forward",
        account: ALICE,
        vault: await f.vault.getAddress(),
        call: "resume",
        nonce: "2",
        out,
        deployments: f.book,
      });
      await expectTaskError(
        "intent:relay",
        { file: out, relayerAccount: RELAYER, deployments: f.book },
        /forwarder expects 0 .*relay the requests with nonces 0\.\.1 first/,
      );
    });

    it("a missing address book says what to run", async () => {
      await expectTaskError(
        "intent:relay",
        { file: tmpFile("nothing.json"), deployments: tmpFile("no-book.json") },
        /does not exist/,
      );
      const f = await loadFixture(openedFixture);
      await expectTaskError(
        "vault:status",
        { vault: await f.vault.getAddress(), deployments: tmpFile("no-book.json") },
        /Deployment file .*no-book\.json does not exist: the in-process hardhat network starts empty with every command: start `npx hardhat node` \(its deploy scripts write the book\) and pass --network localhost \(or pass --deployments <file>\)/,
      );
    });
  });
});
