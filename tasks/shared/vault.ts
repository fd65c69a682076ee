/** Vault reads shared by the intent and vault tasks: policies (parsed, checked, printed) and the status summary. */
import { formatUnits, getAddress, parseUnits } from "ethers";

import type { BallastVault } from "../../typechain-types";
import { parseBps, parseHf, tokenInfo, type TaskContext, type TokenInfo } from "./context";
import { TaskError } from "./errors";
import * as fmt from "./format";
import type { PolicyValues } from "../intent/payload";

export interface PolicyFlags {
  minHf?: string;
  targetHf?: string;
  maxHf?: string;
  maxSlippageBps?: number;
  maxRewardBps?: number;
  /** Gwei, decimal ("2000"). */
  maxGasPriceGwei?: string;
  /** Aave base currency (USD on mainnet), decimal ("5000"). */
  maxRewardUsd?: string;
  urgentSlippageBps?: number;
}

export async function readPolicy(vault: BallastVault): Promise<PolicyValues> {
  const p = await vault.policy();
  return {
    minHF: p.minHF,
    targetHF: p.targetHF,
    maxHF: p.maxHF,
    maxSlippageBps: p.maxSlippageBps,
    maxKeeperRewardBps: p.maxKeeperRewardBps,
    maxGasPrice: p.maxGasPrice,
    maxRewardBase: p.maxRewardBase,
    urgentSlippageBps: p.urgentSlippageBps,
  };
}

/** The policy the flags describe; a flag left out keeps the value of `base`. */
export function policyFromFlags(base: PolicyValues, flags: PolicyFlags): PolicyValues {
  return {
    minHF: flags.minHf !== undefined ? parseHf(flags.minHf, "--min-hf") : base.minHF,
    targetHF: flags.targetHf !== undefined ? parseHf(flags.targetHf, "--target-hf") : base.targetHF,
    maxHF: flags.maxHf !== undefined ? parseHf(flags.maxHf, "--max-hf") : base.maxHF,
    maxSlippageBps:
      flags.maxSlippageBps !== undefined
        ? BigInt(parseBps(flags.maxSlippageBps, "--max-slippage-bps"))
        : base.maxSlippageBps,
    maxKeeperRewardBps:
      flags.maxRewardBps !== undefined
        ? BigInt(parseBps(flags.maxRewardBps, "--max-reward-bps"))
        : base.maxKeeperRewardBps,
    maxGasPrice:
      flags.maxGasPriceGwei !== undefined
        ? parseUint64Units(flags.maxGasPriceGwei, 9, "--max-gas-price-gwei")
        : base.maxGasPrice,
    maxRewardBase:
      flags.maxRewardUsd !== undefined
        ? parseUint64Units(flags.maxRewardUsd, 8, "--max-reward-usd")
        : base.maxRewardBase,
    urgentSlippageBps:
      flags.urgentSlippageBps !== undefined
        ? BigInt(parseBps(flags.urgentSlippageBps, "--urgent-slippage-bps"))
        : base.urgentSlippageBps,
  };
}

/** The flags that change a policy, named as the tasks' --help spells them. */
export const POLICY_FLAG_NAMES =
  "--min-hf, --target-hf, --max-hf, --max-slippage-bps, --urgent-slippage-bps, --max-reward-bps, --max-gas-price-gwei or --max-reward-usd";

/** Whether any policy flag was passed. */
export function anyPolicyFlag(f: PolicyFlags): boolean {
  return [
    f.minHf,
    f.targetHf,
    f.maxHf,
    f.maxSlippageBps,
    f.urgentSlippageBps,
    f.maxRewardBps,
    f.maxGasPriceGwei,
    f.maxRewardUsd,
  ].some((v) => v !== undefined);
}

/** A non-negative decimal with at most `decimals` places, scaled by 10^decimals, that fits the vault's uint64. */
function parseUint64Units(value: string, decimals: number, flag: string): bigint {
  const v = value.trim();
  if (!new RegExp(`^\\d+(\\.\\d{1,${decimals}})?$`).test(v)) {
    throw new TaskError(`${flag} must be a decimal number with at most ${decimals} decimals, got "${value}"`);
  }
  const n = parseUnits(v, decimals);
  if (n >= 2n ** 64n) throw new TaskError(`${flag} ${value} is out of range`);
  return n;
}

/** The factory's policy bounds, checked here so that a bad policy is refused before anything is signed or sent. */
export async function checkPolicy(ctx: TaskContext, p: PolicyValues): Promise<void> {
  const b = await ctx.factory.policyBounds();
  const problems: string[] = [];
  if (p.minHF < b.minHFFloor)
    problems.push(`minHF ${fmt.hf(p.minHF)} is below the protocol floor ${fmt.hf(b.minHFFloor)}`);
  if (p.minHF + b.minBandGap > p.targetHF) {
    problems.push(`targetHF ${fmt.hf(p.targetHF)} must be at least minHF + ${fmt.hf(b.minBandGap)}`);
  }
  if (p.targetHF + b.minBandGap > p.maxHF) {
    problems.push(`maxHF ${fmt.hf(p.maxHF)} must be at least targetHF + ${fmt.hf(b.minBandGap)}`);
  }
  if (p.maxHF > b.maxHFCeiling)
    problems.push(`maxHF ${fmt.hf(p.maxHF)} is above the protocol ceiling ${fmt.hf(b.maxHFCeiling)}`);
  if (p.maxSlippageBps > b.maxSlippageBpsCap) {
    problems.push(`max slippage ${fmt.bps(p.maxSlippageBps)} is above the cap ${fmt.bps(b.maxSlippageBpsCap)}`);
  }
  if (p.urgentSlippageBps < p.maxSlippageBps || p.urgentSlippageBps > b.maxSlippageBpsCap) {
    problems.push(
      `urgent slippage ${fmt.bps(p.urgentSlippageBps)} must lie between the max slippage ${fmt.bps(p.maxSlippageBps)} and the cap ${fmt.bps(b.maxSlippageBpsCap)}`,
    );
  }
  if (p.maxKeeperRewardBps > b.maxKeeperRewardBpsCap) {
    problems.push(
      `max keeper reward ${fmt.bps(p.maxKeeperRewardBps)} is above the cap ${fmt.bps(b.maxKeeperRewardBpsCap)}`,
    );
  }
  if (p.maxRewardBase === 0n) {
    problems.push("the max keeper reward must be above $0 (to stop keeper rebalances, pause automation instead)");
  }
  if (problems.length > 0) {
    throw new TaskError(
      `Invalid policy: ${problems.join("; ")}: change --min-hf / --target-hf / --max-hf / --max-*-bps / --max-reward-usd`,
    );
  }
}

export function policyText(p: PolicyValues): string {
  return (
    `minHF ${fmt.hf(p.minHF)} · target ${fmt.hf(p.targetHF)} · maxHF ${fmt.hf(p.maxHF)} · ` +
    `slippage <= ${fmt.bps(p.maxSlippageBps)} (${fmt.bps(p.urgentSlippageBps)} at HF 1.0) · keeper premium <= ${fmt.bps(p.maxKeeperRewardBps)} · ` +
    `gas priced at <= ${formatUnits(p.maxGasPrice, 9)} gwei · keeper reward <= ${fmt.usd(p.maxRewardBase)}`
  );
}

export const DIRECTIONS = ["none", "deleverage", "leverage", "close"] as const;

export interface VaultStatus {
  vault: string;
  owner: string;
  collateral: TokenInfo;
  debt: TokenInfo;
  policy: PolicyValues;
  collateralBase: bigint;
  debtBase: bigint;
  liquidationThresholdBps: bigint;
  healthFactor: bigint;
  rebalanceNeeded: boolean;
  direction: (typeof DIRECTIONS)[number];
  amountIn: bigint;
  urgency: bigint;
  automationPaused: boolean;
}

export async function readStatus(ctx: TaskContext, vault: BallastVault): Promise<VaultStatus> {
  const [owner, collateralAddress, debtAddress, policy, position, needed, automationPaused] = await Promise.all([
    vault.owner(),
    vault.collateralAsset(),
    vault.debtAsset(),
    readPolicy(vault),
    vault.position(),
    vault.rebalanceNeeded(),
    vault.automationPaused(),
  ]);
  return {
    vault: getAddress(await vault.getAddress()),
    owner,
    collateral: await tokenInfo(ctx, collateralAddress),
    debt: await tokenInfo(ctx, debtAddress),
    policy,
    collateralBase: position.collateralBase,
    debtBase: position.debtBase,
    liquidationThresholdBps: position.liquidationThresholdBps,
    healthFactor: position.healthFactor,
    rebalanceNeeded: needed.needed,
    direction: DIRECTIONS[Number(needed.direction)] ?? "none",
    amountIn: needed.amountIn,
    urgency: needed.urgency,
    automationPaused,
  };
}

function band(s: VaultStatus): string {
  if (s.debtBase === 0n) return "no position";
  if (s.healthFactor < s.policy.minHF) return `below minHF ${fmt.hf(s.policy.minHF)}`;
  if (s.healthFactor > s.policy.maxHF) return `above maxHF ${fmt.hf(s.policy.maxHF)}`;
  return "in band";
}

/** The status for humans: HF with 4 decimals, values in USD. */
export function statusLines(s: VaultStatus): string[] {
  const sold = s.direction === "leverage" ? s.debt : s.collateral;
  const rebalance = s.rebalanceNeeded
    ? `needed: ${s.direction}, sell ~${fmt.token(s.amountIn, sold.decimals, sold.symbol)}` +
      (s.direction === "deleverage" ? `, urgency ${fmt.fixed(s.urgency * 100n, 18, 1)}%` : "")
    : s.automationPaused && s.debtBase !== 0n && band(s) !== "in band"
      ? "not allowed: automation paused"
      : "not needed";
  const leverage =
    s.collateralBase > s.debtBase && s.debtBase !== 0n
      ? ` · leverage ${fmt.fixed((s.collateralBase * 100n) / (s.collateralBase - s.debtBase), 2, 2)}x`
      : "";
  return [
    `Vault       ${s.vault}`,
    `Owner       ${s.owner}`,
    `Assets      ${s.collateral.symbol} collateral (${s.collateral.address}) / ${s.debt.symbol} debt (${s.debt.address})`,
    `Policy      ${policyText(s.policy)}`,
    `Collateral  ${fmt.usd(s.collateralBase)}`,
    `Debt        ${fmt.usd(s.debtBase)}`,
    `Equity      ${fmt.usd(s.collateralBase > s.debtBase ? s.collateralBase - s.debtBase : 0n)}${leverage}`,
    s.debtBase === 0n
      ? "HF          ∞ (no debt: no position)"
      : `HF          ${fmt.hf(s.healthFactor)} (${band(s)}; liquidation threshold ${fmt.fixed(s.liquidationThresholdBps, 2, 2)}%)`,
    `Rebalance   ${rebalance}`,
    `Automation  ${s.automationPaused ? "paused by the owner" : "on"}`,
  ];
}
