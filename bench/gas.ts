/**
 * Gas benchmark: each Ballast operation against BareRebalancer, a contract making the same Aave V3 and Uniswap V3
 * calls on the same position and amounts with no checks, measured in the same run from the same chain state; the
 * deleverage once more through the keeper auction; and `executeBatch` gas per vault for batches of 1, 5 and 20.
 * Writes reports/gas.json; with BENCH_CHECK=1 it compares against the committed file instead and fails on any
 * increase (a gas regression is a bug).
 */
import fs from "node:fs";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  getAddress,
  keccak256,
  MaxUint256,
  parseUnits,
  toUtf8Bytes,
  ZeroHash,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
} from "ethers";
import hre from "hardhat";

import { deployMarket, ORACLE_BASE_CURRENCY_UNIT, type Market } from "../lib/market";
import { signForwardRequest, signIntent } from "../lib/intents";
import { DEFAULT_POLICY, deployPool, deployProtocol, marketPath, singleHopPath, type Protocol } from "../lib/protocol";
import {
  BallastVault__factory,
  BareRebalancer__factory,
  type BallastForwarder,
  type BallastVault,
  type IBallastVault,
  type KeeperAuction,
} from "../typechain-types";
import { mergeReport, REPORT } from "./report";

/** Far beyond any test chain's clock, and the same every run. */
const FIXED_DEADLINE = 2n ** 40n;
const DEPOSIT = parseUnits("10", 18);
const TARGET_HF = parseUnits("1.5", 18);
const PRICE = (usd: bigint) => usd * ORACLE_BASE_CURRENCY_UNIT;
const MOVES = { deleverage: PRICE(1_600n), leverage: PRICE(2_400n) };
/** Batch sizes for `executeBatch`; the largest is the number of vaults opened for it. */
const BATCH_SIZES = [1, 5, 20] as const;
/** Seconds from the kick to the execution: fixed, so the reward, and with it the gas, is the same every run. */
const AUCTION_DELAY = 60;

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

/** Gas plus the amounts used, from the vault's `Rebalanced` (or `CollateralSwitched`) report and Aave's `FlashLoan`. */
async function measure(market: Market, vault: BallastVault, r: ContractTransactionReceipt): Promise<Measured> {
  const vaultAddress = await vault.getAddress();
  const poolAddress = await market.aave.pool.getAddress();
  const measured: Measured = { gas: r.gasUsed, amountIn: 0n, amountOut: 0n, flashAmount: 0n };
  for (const log of r.logs) {
    if (log.address === vaultAddress) {
      const parsed = vault.interface.parseLog(log);
      if (parsed?.name === "Rebalanced" || parsed?.name === "CollateralSwitched") {
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
  const intent = {
    policy,
    version: await vault.policyVersion(),
    feeToken: await vault.collateralAsset(),
    maxFee: 0n,
    nonce: 1n,
    deadline,
  };
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const signature = await signIntent(owner, "SetPolicy", await vault.getAddress(), chainId, intent);
  const bySig = (await receipt(vault.connect(relayer).setPolicyBySig(intent, signature, 0n))).gasUsed;
  await before.restore();
  return { direct, relayed, bySig };
}

/** Kicks `vault`, then has `keeper` execute its auction `AUCTION_DELAY` seconds later; the execution's receipt. */
async function viaAuction(
  auction: KeeperAuction,
  vault: BallastVault,
  path: string,
  keeper: HardhatEthersSigner,
): Promise<ContractTransactionReceipt> {
  await receipt(auction.connect(keeper).kick(vault));
  await time.setNextBlockTimestamp((await time.latest()) + AUCTION_DELAY);
  const r = await receipt(auction.connect(keeper).execute(vault, path, MaxUint256, keeper.address));
  if (executed(auction, r) !== 1) throw new Error("the auction did not execute");
  return r;
}

/** How many `Executed` events the auction emitted; a batch that lost a vault emits `ExecutionFailed` instead. */
function executed(auction: KeeperAuction, r: ContractTransactionReceipt): number {
  return r.logs.filter((log) => auction.interface.parseLog(log)?.name === "Executed").length;
}

/**
 * `executeBatch` gas per vault for each of BATCH_SIZES: as many vaults as the largest batch, each its own owner's
 * (fixed impersonated addresses, so the vault addresses and the calldata are the same every run) and opened like the
 * main one, all pushed below `minHF` and kicked; then each batch size runs from that same snapshot.
 */
async function auctionBatches(
  market: Market,
  protocol: Protocol,
  keeper: HardhatEthersSigner,
  paths: { up: string; down: string },
): Promise<Record<(typeof BATCH_SIZES)[number], number>> {
  const size = Math.max(...BATCH_SIZES);
  const weth = market.tokens.erc20.WETH;
  const usdc = market.tokens.erc20.USDC;
  const vaults: BallastVault[] = [];
  for (let i = 0; i < size; i++) {
    const address = getAddress(keccak256(toUtf8Bytes(`ballast.bench.owner.${i}`)).slice(0, 42));
    await hre.network.provider.request({ method: "hardhat_impersonateAccount", params: [address] });
    await hre.network.provider.request({ method: "hardhat_setBalance", params: [address, "0x56bc75e2d63100000"] });
    const owner = await hre.ethers.getSigner(address);
    await market.world.fund("WETH", address, DEPOSIT);
    await receipt(protocol.factory.connect(owner).createVault(weth, usdc, DEFAULT_POLICY, ZeroHash));
    const vault = BallastVault__factory.connect(await protocol.factory.predictVault(address, ZeroHash), owner);
    await receipt(weth.connect(owner).approve(vault, DEPOSIT));
    await receipt(vault.open(DEPOSIT, TARGET_HF, paths.up));
    vaults.push(vault);
  }
  await movePrice(market, MOVES.deleverage);
  for (const vault of vaults) await receipt(protocol.auction.connect(keeper).kick(vault));
  const kicked = await takeSnapshot();
  const kickedAt = await time.latest();
  const calls = await Promise.all(
    vaults.map(async (vault) => ({ vault: await vault.getAddress(), path: paths.down, maxAmountIn: MaxUint256 })),
  );
  const perVault = {} as Record<(typeof BATCH_SIZES)[number], number>;
  for (const n of BATCH_SIZES) {
    await kicked.restore();
    await time.setNextBlockTimestamp(kickedAt + AUCTION_DELAY);
    const r = await receipt(protocol.auction.connect(keeper).executeBatch(calls.slice(0, n), keeper.address));
    if (executed(protocol.auction, r) !== n) throw new Error(`a batch of ${n} did not execute every vault`);
    perVault[n] = Math.round(Number(r.gasUsed) / n);
  }
  return perVault;
}

interface PoolGas {
  deposit: bigint;
  redeem: bigint;
  rebalance: Measured;
  /** What the redemption unwound, from the pool's `Unwound` event. */
  debtRepaid: bigint;
  collateralReleased: bigint;
  /** The most collateral the redemption could sell: its buy's amountInMaximum, derived as the pool derives it. */
  maxSold: bigint;
}

/**
 * A WETH/USDC BallastPool: the first holder's 10 WETH opened by `lever`, then measured from the same state as the
 * per-user vault: a second deposit of 5 WETH, a redemption of half the first holder's shares (flash loan, repay,
 * withdraw, exactOutput buy), and a keeper's deleverage after the same price move.
 */
async function poolOperations(
  market: Market,
  protocol: Protocol,
  governance: HardhatEthersSigner,
  holder: HardhatEthersSigner,
  down: string,
): Promise<PoolGas> {
  const pool = await deployPool(market, protocol, governance, governance.address);
  const weth = market.tokens.erc20.WETH.connect(holder);
  await market.world.fund("WETH", holder.address, DEPOSIT + DEPOSIT / 2n);
  await receipt(weth.approve(pool, MaxUint256));
  await receipt(pool.connect(holder).deposit(DEPOSIT, holder.address));
  await receipt(pool.connect(holder).lever());
  const before = await takeSnapshot();
  const deposit = (await receipt(pool.connect(holder).deposit(DEPOSIT / 2n, holder.address))).gasUsed;
  await before.restore();
  const shares = (await pool.balanceOf(holder)) / 2n;
  const redeemed = await receipt(pool.connect(holder).redeem(shares, holder.address, holder.address));
  let debtRepaid = 0n;
  let collateralReleased = 0n;
  let premium = 0n;
  for (const log of redeemed.logs) {
    if (log.address === (await pool.getAddress())) {
      const parsed = pool.interface.parseLog(log);
      if (parsed?.name === "Unwound") [, , collateralReleased, debtRepaid] = parsed.args;
    } else if (log.address === (await market.aave.pool.getAddress())) {
      const parsed = market.aave.pool.interface.parseLog(log);
      if (parsed?.name === "FlashLoan") premium = parsed.args.premium as bigint;
    }
  }
  await before.restore();
  // The pool's bound, recomputed from the same oracle prices and policy: the bare buy gets the same maximum.
  const prices = await market.world.oraclePrices();
  const owed = debtRepaid + premium;
  const slippage = BigInt(DEFAULT_POLICY.maxSlippageBps);
  const maxSold =
    (owed * prices.USDC * 10n ** 18n * 10_000n + prices.WETH * 10n ** 6n * (10_000n - slippage) - 1n) /
    (prices.WETH * 10n ** 6n * (10_000n - slippage));
  await movePrice(market, MOVES.deleverage);
  const vault = BallastVault__factory.connect(await pool.VAULT(), holder);
  const rebalance = await measure(market, vault, await receipt(vault.rebalance(down, MaxUint256)));
  return { deposit, redeem: redeemed.gasUsed, rebalance, debtRepaid, collateralReleased, maxSold };
}

async function movePrice(market: Market, price: bigint): Promise<void> {
  await market.world.setPrice("WETH", price);
  await market.world.advance(700);
  await market.world.refreshOracles();
}

async function main(): Promise<void> {
  const market = await deployMarket(hre);
  const [governance, guardian, owner, relayer, keeper] = await hre.ethers.getSigners();
  const protocol = await deployProtocol(market, governance, guardian);
  const weth = market.tokens.erc20.WETH;
  const usdc = market.tokens.erc20.USDC;
  const up = await singleHopPath(market, "USDC", "WETH", 500);
  const down = await singleHopPath(market, "WETH", "USDC", 500);
  const wbtc = market.tokens.erc20.WBTC;
  const toWbtc = await marketPath(market, ["WETH", "USDC", "WBTC"], [500, 3_000]);
  await market.world.fund("WETH", owner.address, DEPOSIT);
  // A working keeper has been paid before: its USDC balance is not zero, so a reward does not pay for a new slot.
  await market.world.fund("USDC", keeper.address, parseUnits("1", 6));
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
  const beforeSwitch = await takeSnapshot();
  const switched = await measure(market, vault, await receipt(vault.switchCollateral(wbtc, toWbtc)));
  await beforeSwitch.restore();
  await movePrice(market, MOVES.deleverage);
  // The same deleverage through the keeper auction (kick, then execute with a reward), from the same state.
  const beforeDelever = await takeSnapshot();
  const auctionDelever = await measure(market, vault, await viaAuction(protocol.auction, vault, down, keeper));
  await beforeDelever.restore();
  const delever = await measure(market, vault, await receipt(vault.rebalance(down, hre.ethers.MaxUint256)));
  await movePrice(market, MOVES.leverage);
  const lever = await measure(market, vault, await receipt(vault.rebalance(up, hre.ethers.MaxUint256)));
  const close = await measure(market, vault, await receipt(vault.close(down)));

  // The bare sequence, from the same state, with the amounts Ballast used.
  await start.restore();
  // The bare contract, on the same market and assets as the vault.
  const deployBare = () =>
    new BareRebalancer__factory(owner).deploy(market.aave.pool, market.uniswap.router, weth, usdc, wbtc);
  const bare = await deployBare();
  await receipt(weth.connect(owner).approve(bare, DEPOSIT));
  const bareOpen = await receipt(bare.open(DEPOSIT, open.flashAmount, up, open.amountOut));
  const beforeBareSwitch = await takeSnapshot();
  const bareSwitch = await receipt(
    bare.switchCollateral(switched.flashAmount, switched.amountIn, toWbtc, switched.amountOut),
  );
  await beforeBareSwitch.restore();
  await movePrice(market, MOVES.deleverage);
  const bareDelever = await receipt(bare.deleverage(delever.flashAmount, delever.amountIn, down, delever.amountOut));
  await movePrice(market, MOVES.leverage);
  const beforeLever = await takeSnapshot();
  const bareLeverSimple = await receipt(bare.leverageSimple(lever.amountIn, up, lever.amountOut));
  await beforeLever.restore();
  const bareLever = await receipt(bare.leverage(lever.amountIn, up, lever.amountOut));
  const bareClose = await receipt(bare.close(close.flashAmount, close.amountIn, down, close.amountOut));

  await start.restore();
  const batch = await auctionBatches(market, protocol, keeper, { up, down });

  // The pool, and the bare sequences of the same calls with the amounts it used.
  await start.restore();
  const poolGas = await poolOperations(market, protocol, governance, owner, down);
  await start.restore();
  const barePool = await deployBare();
  await market.world.fund("WETH", owner.address, DEPOSIT / 2n);
  await receipt(weth.connect(owner).approve(barePool, DEPOSIT + DEPOSIT / 2n));
  await receipt(barePool.open(DEPOSIT, open.flashAmount, up, 0n));
  const beforeBarePool = await takeSnapshot();
  const bareSupply = (await receipt(barePool.supply(DEPOSIT / 2n))).gasUsed;
  await beforeBarePool.restore();
  const bareUnwind = (
    await receipt(
      barePool.unwind(
        poolGas.debtRepaid,
        poolGas.collateralReleased,
        await singleHopPath(market, "USDC", "WETH", 500),
        poolGas.maxSold,
      ),
    )
  ).gasUsed;
  await beforeBarePool.restore();
  await movePrice(market, MOVES.deleverage);
  const barePoolDelever = (
    await receipt(
      barePool.deleverage(poolGas.rebalance.flashAmount, poolGas.rebalance.amountIn, down, poolGas.rebalance.amountOut),
    )
  ).gasUsed;

  const row = (gas: bigint, bareGas: bigint) => ({
    gas: Number(gas),
    bare: Number(bareGas),
    ratio: Math.round((Number(gas) / Number(bareGas)) * 1000) / 1000,
  });
  const report = {
    deleverage: { ...row(delever.gas, bareDelever.gasUsed), auction: Number(auctionDelever.gas) },
    leverage: row(lever.gas, bareLever.gasUsed),
    open: row(open.gas, bareOpen.gasUsed),
    close: row(close.gas, bareClose.gasUsed),
    switch: row(switched.gas, bareSwitch.gasUsed),
    forwarder: { direct: Number(ownerOps.direct), relayed: Number(ownerOps.relayed) },
    intent: { setPolicyBySig: Number(ownerOps.bySig) },
    leverageVariants: {
      flashLoanMode2: Number(bareLever.gasUsed),
      flashLoanSimpleThenBorrow: Number(bareLeverSimple.gasUsed),
    },
    batch: { ...batch, ratio: Math.round((batch[20] / batch[1]) * 1000) / 1000 },
    pool: {
      deposit: row(poolGas.deposit, bareSupply),
      redeem: row(poolGas.redeem, bareUnwind),
      rebalance: row(poolGas.rebalance.gas, barePoolDelever),
    },
  };
  console.table(
    Object.fromEntries((["deleverage", "leverage", "open", "close", "switch"] as const).map((k) => [k, report[k]])),
  );
  console.log("leverage variants (bare):", report.leverageVariants);
  console.log(
    "setPolicy: direct",
    report.forwarder.direct,
    "relayed",
    report.forwarder.relayed,
    "by signature",
    report.intent.setPolicyBySig,
  );
  console.log("deleverage through the auction (kick, then execute):", report.deleverage.auction);
  console.log("executeBatch gas per vault by batch size:", report.batch);
  console.table(report.pool);

  if (process.env.BENCH_CHECK === "1") {
    const committed = JSON.parse(fs.readFileSync(REPORT, "utf8")) as typeof report;
    const flat = (r: typeof report): Record<string, number> => ({
      deleverage: r.deleverage.gas,
      leverage: r.leverage.gas,
      open: r.open.gas,
      close: r.close.gas,
      switch: r.switch?.gas,
      "forwarder.direct": r.forwarder.direct,
      "forwarder.relayed": r.forwarder.relayed,
      "intent.setPolicyBySig": r.intent.setPolicyBySig,
      "deleverage.auction": r.deleverage.auction,
      ...Object.fromEntries(BATCH_SIZES.map((n) => [`batch.${n}`, r.batch?.[n]])),
      "pool.deposit": r.pool?.deposit.gas,
      "pool.redeem": r.pool?.redeem.gas,
      "pool.rebalance": r.pool?.rebalance.gas,
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
