/**
 * Gas benchmark: each Ballast operation against BareRebalancer, a contract making the same Aave V3 and Uniswap V3
 * calls on the same position and amounts with no checks, measured in the same run from the same chain state.
 * Writes reports/gas.json; with BENCH_CHECK=1 it compares against the committed file instead and fails on any
 * increase (a gas regression is a bug).
 */
import fs from "node:fs";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { takeSnapshot } from "@nomicfoundation/hardhat-network-helpers";
import { parseUnits, ZeroHash, type ContractTransactionReceipt, type ContractTransactionResponse } from "ethers";
import hre from "hardhat";

import { deployMarket, ORACLE_BASE_CURRENCY_UNIT, type Market } from "../lib/market";
import { signForwardRequest, signIntent } from "../lib/intents";
import { DEFAULT_POLICY, deployProtocol, singleHopPath } from "../lib/protocol";
import {
  BallastVault__factory,
  BareRebalancer__factory,
  type BallastForwarder,
  type BallastVault,
  type IBallastVault,
} from "../typechain-types";
import { mergeReport, REPORT } from "./report";

/** Far beyond any test chain's clock, and the same every run. */
const FIXED_DEADLINE = 2n ** 40n;
const DEPOSIT = parseUnits("10", 18);
const TARGET_HF = parseUnits("1.5", 18);
const PRICE = (usd: bigint) => usd * ORACLE_BASE_CURRENCY_UNIT;
const MOVES = { deleverage: PRICE(1_600n), leverage: PRICE(2_400n) };

interface Measured {
  gas: bigint;
  amountIn: bigint;
  amountOut: bigint;
  flashAmount: bigint;
}

async function receipt(tx: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  const r = await (await tx).wait();
  if (r === null) throw new Error("transaction dropped");
  return r;
}

/** Gas plus the amounts used, from the vault's `Rebalanced` report and Aave's `FlashLoan` event. */
async function measure(market: Market, vault: BallastVault, r: ContractTransactionReceipt): Promise<Measured> {
  const vaultAddress = await vault.getAddress();
  const poolAddress = await market.aave.pool.getAddress();
  const measured: Measured = { gas: r.gasUsed, amountIn: 0n, amountOut: 0n, flashAmount: 0n };
  for (const log of r.logs) {
    if (log.address === vaultAddress) {
      const parsed = vault.interface.parseLog(log);
      if (parsed?.name === "Rebalanced") {
        const report = parsed.args.report as IBallastVault.RebalanceReportStructOutput;
        measured.amountIn = report.amountIn;
        measured.amountOut = report.amountOut;
      }
    } else if (log.address === poolAddress) {
      const parsed = market.aave.pool.interface.parseLog(log);
      if (parsed?.name === "FlashLoan") measured.flashAmount = parsed.args.amount as bigint;
    }
  }
  if (measured.amountIn === 0n || measured.flashAmount === 0n) throw new Error("no rebalance in the transaction");
  return measured;
}

/**
 * The same owner operation (`setPolicy` to a new slippage bound) sent by the owner, relayed through the forwarder,
 * and submitted as a signed intent, each from the same state.
 */
async function ownerOperation(
  forwarder: BallastForwarder,
  vault: BallastVault,
  relayer: HardhatEthersSigner,
): Promise<{ direct: bigint; relayed: bigint; bySig: bigint }> {
  const policy = { ...DEFAULT_POLICY, maxSlippageBps: 50 };
  const owner = vault.runner as HardhatEthersSigner;
  const before = await takeSnapshot();
  const direct = (await receipt(vault.setPolicy(policy))).gasUsed;
  await before.restore();
  // A fixed deadline keeps calldata, signatures (RFC 6979) and so gas identical from run to run.
  const deadline = FIXED_DEADLINE;
  const request = await signForwardRequest(owner, forwarder.connect(relayer), {
    to: await vault.getAddress(),
    data: vault.interface.encodeFunctionData("setPolicy", [policy]),
    gas: 100_000n,
    deadline,
  });
  const relayed = (await receipt(forwarder.connect(relayer).execute(request))).gasUsed;
  await before.restore();
  // A relayer working for free still names one of the vault's assets as the fee token.
  const intent = { policy, feeToken: await vault.collateralAsset(), maxFee: 0n, nonce: 1n, deadline };
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const signature = await signIntent(owner, "SetPolicy", await vault.getAddress(), chainId, intent);
  const bySig = (await receipt(vault.connect(relayer).setPolicyBySig(intent, signature, 0n))).gasUsed;
  await before.restore();
  return { direct, relayed, bySig };
}

async function movePrice(market: Market, price: bigint): Promise<void> {
  await market.world.setPrice("WETH", price);
  await market.world.advance(700);
  await market.world.refreshOracles();
}

async function main(): Promise<void> {
  const market = await deployMarket(hre);
  const [governance, guardian, owner, relayer] = await hre.ethers.getSigners();
  const protocol = await deployProtocol(market, governance, guardian);
  const weth = market.tokens.erc20.WETH;
  const usdc = market.tokens.erc20.USDC;
  const up = await singleHopPath(market, "USDC", "WETH", 500);
  const down = await singleHopPath(market, "WETH", "USDC", 500);
  await market.world.fund("WETH", owner.address, DEPOSIT);
  const start = await takeSnapshot();

  // Ballast.
  await receipt(protocol.factory.connect(owner).createVault(weth, usdc, DEFAULT_POLICY, ZeroHash));
  const vault: BallastVault = BallastVault__factory.connect(
    await protocol.factory.predictVault(owner.address, ZeroHash),
    owner,
  );
  await receipt(weth.connect(owner).approve(vault, DEPOSIT));
  const open = await measure(market, vault, await receipt(vault.open(DEPOSIT, TARGET_HF, up)));
  const ownerOps = await ownerOperation(protocol.forwarder, vault, relayer);
  await movePrice(market, MOVES.deleverage);
  const delever = await measure(market, vault, await receipt(vault.rebalance(down, hre.ethers.MaxUint256, 0)));
  await movePrice(market, MOVES.leverage);
  const lever = await measure(market, vault, await receipt(vault.rebalance(up, hre.ethers.MaxUint256, 0)));
  const close = await measure(market, vault, await receipt(vault.close(down)));

  // The bare sequence, from the same state, with the amounts Ballast used.
  await start.restore();
  const bare = await new BareRebalancer__factory(owner).deploy(market.aave.pool, market.uniswap.router, weth, usdc);
  await receipt(weth.connect(owner).approve(bare, DEPOSIT));
  const bareOpen = await receipt(bare.open(DEPOSIT, open.flashAmount, up, open.amountOut));
  await movePrice(market, MOVES.deleverage);
  const bareDelever = await receipt(bare.deleverage(delever.flashAmount, delever.amountIn, down, delever.amountOut));
  await movePrice(market, MOVES.leverage);
  const beforeLever = await takeSnapshot();
  const bareLeverSimple = await receipt(bare.leverageSimple(lever.amountIn, up, lever.amountOut));
  await beforeLever.restore();
  const bareLever = await receipt(bare.leverage(lever.amountIn, up, lever.amountOut));
  const bareClose = await receipt(bare.close(close.flashAmount, close.amountIn, down, close.amountOut));

  const row = (gas: bigint, bareGas: bigint) => ({
    gas: Number(gas),
    bare: Number(bareGas),
    ratio: Math.round((Number(gas) / Number(bareGas)) * 1000) / 1000,
  });
  const report = {
    deleverage: row(delever.gas, bareDelever.gasUsed),
    leverage: row(lever.gas, bareLever.gasUsed),
    open: row(open.gas, bareOpen.gasUsed),
    close: row(close.gas, bareClose.gasUsed),
    forwarder: { direct: Number(ownerOps.direct), relayed: Number(ownerOps.relayed) },
    intent: { setPolicyBySig: Number(ownerOps.bySig) },
    leverageVariants: {
      flashLoanMode2: Number(bareLever.gasUsed),
      flashLoanSimpleThenBorrow: Number(bareLeverSimple.gasUsed),
    },
  };
  console.table(Object.fromEntries((["deleverage", "leverage", "open", "close"] as const).map((k) => [k, report[k]])));
  console.log("leverage variants (bare):", report.leverageVariants);
  console.log(
    "setPolicy: direct",
    report.forwarder.direct,
    "relayed",
    report.forwarder.relayed,
    "by signature",
    report.intent.setPolicyBySig,
  );

  if (process.env.BENCH_CHECK === "1") {
    const committed = JSON.parse(fs.readFileSync(REPORT, "utf8")) as typeof report;
    const flat = (r: typeof report): Record<string, number> => ({
      deleverage: r.deleverage.gas,
      leverage: r.leverage.gas,
      open: r.open.gas,
      close: r.close.gas,
      "forwarder.direct": r.forwarder.direct,
      "forwarder.relayed": r.forwarder.relayed,
      "intent.setPolicyBySig": r.intent.setPolicyBySig,
    });
    const now = flat(report);
    const before = flat(committed);
    const regressions = Object.keys(now).filter((k) => before[k] === undefined || now[k] > before[k]);
    if (regressions.length > 0) {
      for (const k of regressions) console.error(`gas regression in ${k}: ${before[k]} -> ${now[k]}`);
      console.error(
        "Find the cause, or if the increase buys something, run `npm run bench` and commit reports/gas.json.",
      );
      process.exitCode = 1;
    } else {
      console.log("No gas regression against reports/gas.json.");
    }
    return;
  }
  // Other benchmarks (the lens scan, the simulation) write their own keys into the same report: keep them.
  mergeReport(report);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
