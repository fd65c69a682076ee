/**
 * The model and the real system of the model-based suite. The model holds what can be predicted exactly (policies,
 * pause flags, nonces, auctions, who holds a position, frozen reserves); the commands (commands.ts) read the chain only
 * for what the model cannot know (the HF after interest and swaps) and assert each outcome against the model.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import type { BaseContract, ContractTransactionResponse } from "ethers";
import { Interface, MaxUint256, parseUnits, ZeroHash } from "ethers";
import hre from "hardhat";

import {
  BallastVault__factory,
  ERC4626Probe__factory,
  GriefingKeeper__factory,
  MockERC1271Wallet__factory,
  type BallastPool,
  type BallastVault,
  type ERC4626Probe,
  type GriefingKeeper,
  type IBallastVault,
  type MockERC1271Wallet,
} from "../../typechain-types";
import { ASSET_SYMBOLS } from "../../lib/market";
import { mined } from "../../lib/market/aave";
import {
  DEFAULT_POLICY,
  deployPool,
  LOCAL_PARAMS,
  policyValues,
  singleHopPath,
  type PolicyValues,
} from "../../lib/protocol";
import { protocolFixture, type ProtocolFixture } from "../shared/fixtures";

export const WAD = 10n ** 18n;
export const OWNER_NAMES = ["alice", "bob", "wallet"] as const;
export type OwnerName = (typeof OWNER_NAMES)[number];
/** Each owner opens with this much WETH at the policy target; and holds plenty more for deposits and repays. */
export const OPEN_AMOUNT = parseUnits("10", 18);
const OWNER_WETH = parseUnits("200", 18);
const OWNER_USDC = parseUnits("1000000", 6);

/** The policies a sequence switches between: all valid, with different bands, slippage and reward caps. */
export const POLICIES: readonly PolicyValues[] = [
  policyValues(DEFAULT_POLICY),
  {
    minHF: parseUnits("1.2", 18),
    targetHF: parseUnits("1.4", 18),
    maxHF: parseUnits("2", 18),
    maxSlippageBps: 50n,
    maxKeeperRewardBps: 200n,
    maxGasPrice: parseUnits("500", "gwei"),
    maxRewardBase: 1_000n * 10n ** 8n,
    urgentSlippageBps: 50n,
  },
  {
    minHF: parseUnits("1.4", 18),
    targetHF: parseUnits("1.6", 18),
    maxHF: parseUnits("1.9", 18),
    maxSlippageBps: 150n,
    maxKeeperRewardBps: 30n,
    // A tight absolute cap ($20): the auction's reward is clamped to it.
    maxGasPrice: parseUnits("2000", "gwei"),
    maxRewardBase: 20n * 10n ** 8n,
    urgentSlippageBps: 300n,
  },
];
/** A band the factory refuses (target under minHF + gap). */
export const INVALID_POLICY: PolicyValues = { ...POLICIES[0], targetHF: POLICIES[0].minHF };

/** `RebalanceExecutor.Direction` as the auction stores it. */
export enum Dir {
  None = 0,
  Deleverage = 1,
  Leverage = 2,
}

export interface VaultModel {
  policy: PolicyValues;
  automationPaused: boolean;
  /** The vault owes debt (opened and not closed). */
  hasDebt: boolean;
  /** The vault holds collateral. */
  hasCollateral: boolean;
  /** The next nonce the owner signs with; every nonce below it was used, none at or above it. */
  nextNonce: bigint;
  /** The last SetPolicy intent that ran, for replays. */
  lastPolicyIntent?: { intent: IBallastVault.SetPolicyIntentStruct; signature: string };
  /** The last Rebalance intent that ran, with its path and reward, for replays. */
  lastRebalanceIntent?: {
    intent: IBallastVault.RebalanceIntentStruct;
    signature: string;
    path: string;
    reward: bigint;
  };
  /** The auction the keeper kicked, if any. */
  auction: { direction: Dir; kickedAt: bigint; kicker: string } | undefined;
}

export interface Model {
  vaults: Record<OwnerName, VaultModel>;
  /** Aave reserves frozen by the market's admin. */
  frozen: { WETH: boolean; USDC: boolean };
  /** The guardian paused new leverage (the factory's `leveragePaused`). */
  leveragePaused: boolean;
}

export function initialModel(): Model {
  const vault = (): VaultModel => ({
    policy: POLICIES[0],
    automationPaused: false,
    hasDebt: true,
    hasCollateral: true,
    nextNonce: 0n,
    auction: undefined,
  });
  return {
    vaults: { alice: vault(), bob: vault(), wallet: vault() },
    frozen: { WETH: false, USDC: false },
    leveragePaused: false,
  };
}

export interface Owner {
  name: OwnerName;
  /** The vault's owner: an EOA, or the EIP-1271 wallet. */
  address: string;
  /** The key that acts and signs for the owner (the wallet's signer for the wallet). */
  signer: HardhatEthersSigner;
  wallet?: MockERC1271Wallet;
  vault: BallastVault;
  vaultAddress: string;
}

export interface System extends ProtocolFixture {
  owners: Record<OwnerName, Owner>;
  keepers: HardhatEthersSigner[];
  /** A keeper contract that burns all gas when sent ETH and can call `execute` twice in one transaction. */
  griefer: GriefingKeeper;
  attacker: HardhatEthersSigner;
  chainId: bigint;
  /** USDC -> WETH (leverage, open) and WETH -> USDC (deleverage, close), through the 0.05% pool. */
  up: string;
  down: string;
  collateralDecimals: bigint;
  debtDecimals: bigint;
  /** A BallastPool whose holders are alice and bob (as EOAs, beside their own vaults), and its position. */
  pool: BallastPool;
  poolVault: BallastVault;
  poolHolders: HardhatEthersSigner[];
  /** Runs a pool preview and its action in one transaction. */
  probe: ERC4626Probe;
}

/** Sends `data` to the owner's vault as the owner: straight from the EOA, or through the wallet's `execute`. */
export async function ownerSend(owner: Owner, data: string): Promise<ContractTransactionResponse> {
  if (owner.wallet !== undefined) return owner.wallet.connect(owner.signer).execute(owner.vaultAddress, data);
  return owner.signer.sendTransaction({ to: owner.vaultAddress, data }) as Promise<ContractTransactionResponse>;
}

/**
 * A sequence's start: the fixture's snapshot, with the clock pinned one second after the fixture's last block.
 * Reverting a snapshot does not take the clock back: without the pin, the next block is stamped with the wall-clock
 * time elapsed since the fixture was taken, and after an hour of sequences every feed is past its heartbeat
 * (`npm run fuzz` failed so at sequence 5,455: `[Close(alice)]` reverted `PriceGuardStalePrice`).
 */
export async function startSequence(): Promise<{ model: Model; real: System }> {
  const real = await loadFixture(invariantFixture);
  const latest = await hre.ethers.provider.getBlock("latest");
  if (latest === null) throw new Error("startSequence: no latest block");
  await time.setNextBlockTimestamp(latest.timestamp + 1);
  return { model: initialModel(), real };
}

/** Alice's and bob's vaults (EOA owners) and a vault owned by an EIP-1271 wallet, each opened with 10 WETH at HF 1.5. */
export async function invariantFixture(): Promise<System> {
  const f = await protocolFixture();
  const signers = await hre.ethers.getSigners();
  const [alice, keeper, attacker, keeper2, bob, walletSigner] = [2, 3, 4, 6, 7, 8].map((i) => signers[i]);
  const weth = f.tokens.erc20.WETH;
  const usdc = f.tokens.erc20.USDC;
  const up = await singleHopPath(f, "USDC", "WETH", 500);
  const down = await singleHopPath(f, "WETH", "USDC", 500);
  const wallet = await new MockERC1271Wallet__factory(walletSigner).deploy(walletSigner.address);
  const owners = {} as Record<OwnerName, Owner>;
  for (const [name, signer] of [
    ["alice", alice],
    ["bob", bob],
    ["wallet", walletSigner],
  ] as const) {
    const w = name === "wallet" ? wallet : undefined;
    const address = w === undefined ? signer.address : await w.getAddress();
    const create = f.factory.interface.encodeFunctionData("createVault", [
      await weth.getAddress(),
      await usdc.getAddress(),
      DEFAULT_POLICY,
      ZeroHash,
    ]);
    if (w === undefined) await mined(f.factory.connect(signer).createVault(weth, usdc, DEFAULT_POLICY, ZeroHash));
    else await mined(w.connect(signer).execute(f.factory, create));
    const vaultAddress = await f.factory.predictVault(address, ZeroHash);
    const vault = BallastVault__factory.connect(vaultAddress, signer);
    const owner: Owner = { name, address, signer, wallet: w, vault, vaultAddress };
    await f.world.fund("WETH", address, OWNER_WETH);
    await f.world.fund("USDC", address, OWNER_USDC);
    for (const token of [weth, usdc]) {
      const approve = token.interface.encodeFunctionData("approve", [vaultAddress, MaxUint256]);
      if (w === undefined) await mined(token.connect(signer).approve(vaultAddress, MaxUint256));
      else await mined(w.connect(signer).execute(token, approve));
    }
    const open = vault.interface.encodeFunctionData("open", [OPEN_AMOUNT, DEFAULT_POLICY.targetHF, up]);
    await mined(ownerSend(owner, open));
    owners[name] = owner;
  }
  const griefer = await new GriefingKeeper__factory(keeper).deploy(f.auction);
  const { chainId } = await hre.ethers.provider.getNetwork();
  // Last, so that no other address moved: the pool, alice's 10 WETH and bob's 5 in it, levered to its target.
  const [governance, guardian] = signers;
  const pool = await deployPool(f, f, governance, guardian.address);
  const probe = await new ERC4626Probe__factory(governance).deploy();
  const poolHolders = [alice, bob];
  for (const [holder, amount] of [
    [alice, OPEN_AMOUNT],
    [bob, OPEN_AMOUNT / 2n],
  ] as const) {
    await mined(weth.connect(holder).approve(pool, MaxUint256));
    await mined(weth.connect(holder).approve(probe, MaxUint256));
    await mined(pool.connect(holder).approve(probe, MaxUint256));
    await mined(pool.connect(holder).deposit(amount, holder.address));
  }
  await mined(pool.lever());
  return {
    ...f,
    owners,
    keepers: [keeper, keeper2],
    griefer,
    attacker,
    chainId,
    up,
    down,
    collateralDecimals: 18n,
    debtDecimals: 6n,
    pool,
    poolVault: BallastVault__factory.connect(await pool.VAULT(), keeper),
    poolHolders,
    probe,
  };
}

/** Re-arbitrages the WETH pools to the oracle price, as the market would after a rebalance's swap. */
export async function rearbitrage(sys: System): Promise<void> {
  for (const info of Object.values(sys.uniswap.pools)) {
    if (info.token0 === "WETH" || info.token1 === "WETH") await sys.world.arbitrage(info.key);
  }
}

/** The band rule the vault and the auction apply (`RebalanceMath.band`). */
export function band(pos: IBallastVault.PositionStructOutput, p: PolicyValues): Dir {
  if (pos.debtBase === 0n) return Dir.None;
  if (pos.healthFactor < p.minHF) return Dir.Deleverage;
  if (pos.healthFactor > p.maxHF) return Dir.Leverage;
  return Dir.None;
}

/** An HF so close to a band edge that a second of interest could move it across: the command skips the check. */
export function nearEdge(hf: bigint, p: PolicyValues): boolean {
  const near = (edge: bigint) => (hf > edge ? hf - edge : edge - hf) * 1_000_000n < edge;
  return near(p.minHF) || near(p.maxHF);
}

/** What a call is expected to do. */
export type Outcome =
  | { kind: "ok" }
  | { kind: "custom"; contract: BaseContract; name: string; args: unknown[] }
  /** An Aave V3 `Errors` code, reverted as `Error(string)`. */
  | { kind: "aave"; code: string };

export const OK: Outcome = { kind: "ok" };
export function custom(contract: BaseContract, name: string, ...args: unknown[]): Outcome {
  return { kind: "custom", contract, name, args };
}
/** Aave's RESERVE_FROZEN. */
export const AAVE_FROZEN: Outcome = { kind: "aave", code: "28" };
/** Aave's RESERVE_PAUSED. */
export const AAVE_PAUSED: Outcome = { kind: "aave", code: "29" };

/** How many calls `expectOutcome` checked, by predicted outcome (the commands report them per kind). */
export const outcomes = { succeeded: 0, reverted: 0 };

const ERROR_STRING = new Interface(["function Error(string)"]);

/**
 * Asserts `tx` had the expected outcome. `owner` set to a wallet owner means the call went through the wallet, which
 * wraps the vault's revert in `WalletCallFailed(vault, reason)`; arguments given as functions are predicates.
 */
export async function expectOutcome(
  tx: Promise<ContractTransactionResponse>,
  outcome: Outcome,
  owner?: Owner,
): Promise<ContractTransactionResponse | undefined> {
  outcomes[outcome.kind === "ok" ? "succeeded" : "reverted"] += 1;
  if (outcome.kind === "ok") {
    const sent = await tx;
    await sent.wait();
    return sent;
  }
  if (owner?.wallet !== undefined) {
    const reason = revertMatcher(outcome);
    await expect(tx)
      .to.be.revertedWithCustomError(owner.wallet, "WalletCallFailed")
      .withArgs(owner.vaultAddress, (data: string) => reason(data));
    return undefined;
  }
  if (outcome.kind === "aave") await expect(tx).to.be.revertedWith(outcome.code);
  else
    await expect(tx)
      .to.be.revertedWithCustomError(outcome.contract, outcome.name)
      .withArgs(...outcome.args);
  return undefined;
}

/** A predicate on the revert data a wallet relays: the exact encoding, or the selector when an argument is open. */
export function revertMatcher(outcome: Exclude<Outcome, { kind: "ok" }>): (data: string) => boolean {
  if (outcome.kind === "aave") {
    const expected = ERROR_STRING.encodeFunctionData("Error", [outcome.code]);
    return (data) => data === expected;
  }
  const fragment = outcome.contract.interface.getError(outcome.name);
  if (fragment === null) throw new Error(`no error ${outcome.name}`);
  if (outcome.args.some((a) => typeof a === "function")) return (data) => data.startsWith(fragment.selector);
  const expected = outcome.contract.interface.encodeErrorResult(fragment, outcome.args);
  return (data) => data.toLowerCase() === expected.toLowerCase();
}

/** Invariant 1: executor, forwarder and auction hold no market token and approved no one; no credit is delegated. */
export async function expectProtocolClean(sys: System): Promise<void> {
  const holders = await Promise.all([sys.executor, sys.forwarder, sys.auction, sys.griefer].map((c) => c.getAddress()));
  const vaults = Object.values(sys.owners).map((o) => o.vaultAddress);
  const spenders = [...vaults, ...holders, await sys.aave.pool.getAddress(), await sys.uniswap.router.getAddress()];
  const checks: Promise<unknown>[] = [];
  for (const symbol of ASSET_SYMBOLS) {
    const token = sys.tokens.erc20[symbol];
    for (const holder of holders.slice(0, 3)) {
      checks.push(token.balanceOf(holder).then((b) => expect(b, `${symbol} balance of ${holder}`).to.equal(0n)));
      for (const spender of spenders) {
        checks.push(
          token.allowance(holder, spender).then((a) => expect(a, `${symbol} allowance ${holder}`).to.equal(0n)),
        );
      }
    }
  }
  for (const vault of vaults) {
    checks.push(
      sys.aave.variableDebtTokens.USDC.borrowAllowance(vault, sys.executor).then((a) =>
        expect(a, "credit delegated to the executor").to.equal(0n),
      ),
    );
  }
  await Promise.all(checks);
}

/** Invariant 2 (and 6): every vault's policy, pause flag, nonces and position state equal the model. */
export async function expectMatchesModel(sys: System, model: Model): Promise<void> {
  for (const name of OWNER_NAMES) {
    const owner = sys.owners[name];
    const m = model.vaults[name];
    const [policy, paused, pos, auction, used, unused] = await Promise.all([
      owner.vault.policy(),
      owner.vault.automationPaused(),
      owner.vault.position(),
      sys.auction.auctionOf(owner.vaultAddress),
      m.nextNonce === 0n ? Promise.resolve(true) : owner.vault.nonceUsed(owner.address, m.nextNonce - 1n),
      owner.vault.nonceUsed(owner.address, m.nextNonce),
    ]);
    expect(policyValues(policy), `${name} policy`).to.deep.equal(m.policy);
    expect(paused, `${name} automation paused`).to.equal(m.automationPaused);
    expect(pos.debtBase > 0n, `${name} has debt`).to.equal(m.hasDebt);
    expect(pos.collateralBase > 0n, `${name} has collateral`).to.equal(m.hasCollateral);
    expect([auction.kickedAt, auction.direction], `${name} auction`).to.deep.equal(
      m.auction === undefined ? [0n, 0n] : [m.auction.kickedAt, BigInt(m.auction.direction)],
    );
    expect([used, unused], `${name} nonces`).to.deep.equal([true, false]);
  }
}

/** The factory's HF tolerance around every target. */
export const HF_TOLERANCE = BigInt(LOCAL_PARAMS.bounds.hfTolerance);

/**
 * The pool's invariants: it holds no token and approved no one between calls; its shares are all its holders';
 * and its total assets are its position's equity at the Aave oracle price, in WETH, with the debt's value rounded up
 * (exactly as the model computes it). While the oracle cannot price the position, `totalAssets` reverts and every
 * `max*` reports 0.
 */
export async function expectPoolConsistent(sys: System): Promise<void> {
  const pool = await sys.pool.getAddress();
  for (const symbol of ["WETH", "USDC"] as const) {
    const token = sys.tokens.erc20[symbol];
    expect(await token.balanceOf(pool), `pool ${symbol}`).to.equal(0n);
    for (const spender of [sys.aave.pool, sys.uniswap.router, sys.poolVault]) {
      expect(await token.allowance(pool, spender), `pool ${symbol} allowance`).to.equal(0n);
    }
  }
  const held = await Promise.all(sys.poolHolders.map((h) => sys.pool.balanceOf(h)));
  expect(
    held.reduce((a, b) => a + b, 0n),
    "pool shares",
  ).to.equal(await sys.pool.totalSupply());
  let total: bigint;
  try {
    total = await sys.pool.totalAssets();
  } catch {
    for (const holder of sys.poolHolders) {
      expect(await sys.pool.maxDeposit(holder), "maxDeposit while unpriced").to.equal(0n);
      expect(await sys.pool.maxRedeem(holder), "maxRedeem while unpriced").to.equal(0n);
    }
    return;
  }
  const [collateral, debt, wethPrice, usdcPrice] = await Promise.all([
    sys.aave.aTokens.WETH.balanceOf(sys.poolVault),
    sys.aave.variableDebtTokens.USDC.balanceOf(sys.poolVault),
    sys.aave.oracle.getAssetPrice(sys.tokens.erc20.WETH),
    sys.aave.oracle.getAssetPrice(sys.tokens.erc20.USDC),
  ]);
  const numerator = debt * usdcPrice * 10n ** sys.collateralDecimals;
  const denominator = wethPrice * 10n ** sys.debtDecimals;
  const debtInWeth = (numerator + denominator - 1n) / denominator;
  expect(total, "pool totalAssets = equity at the oracle").to.equal(
    collateral > debtInWeth ? collateral - debtInWeth : 0n,
  );
}
