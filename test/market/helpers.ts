import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { AddressLike } from "ethers";

import { ASSETS, ORACLE_BASE_CURRENCY_UNIT, type AssetSymbol, type Market } from "../../lib/market";

/** `amount` whole tokens of a market asset, in raw units. */
export function units(symbol: AssetSymbol, amount: bigint): bigint {
  return amount * 10n ** BigInt(ASSETS[symbol].decimals);
}

/** A USD price in the oracle's 8 decimals. */
export function usd(dollars: bigint): bigint {
  return dollars * ORACLE_BASE_CURRENCY_UNIT;
}

/** Funds `signer` with `amount` raw units of an asset and approves `spender` for exactly that amount. */
export async function fundAndApprove(
  market: Market,
  symbol: AssetSymbol,
  signer: HardhatEthersSigner,
  spender: AddressLike,
  amount: bigint,
): Promise<void> {
  await market.world.fund(symbol, signer.address, amount);
  await (await market.tokens.erc20[symbol].connect(signer).approve(spender, amount)).wait();
}

/**
 * Opens an Aave position for `borrower`: supplies `wethCollateral` whole WETH (collateral is on by
 * default for a first supply) and borrows `usdcDebt` whole USDC at the variable rate.
 */
export async function openWethCollateralUsdcDebt(
  market: Market,
  borrower: HardhatEthersSigner,
  wethCollateral: bigint,
  usdcDebt: bigint,
): Promise<void> {
  const { pool } = market.aave;
  const weth = market.tokens.erc20.WETH;
  const usdc = market.tokens.erc20.USDC;
  const collateral = units("WETH", wethCollateral);
  await fundAndApprove(market, "WETH", borrower, pool, collateral);
  await (await pool.connect(borrower).supply(weth, collateral, borrower.address, 0)).wait();
  // Interest rate mode 2 = variable.
  await (await pool.connect(borrower).borrow(usdc, units("USDC", usdcDebt), 2n, 0, borrower.address)).wait();
}
