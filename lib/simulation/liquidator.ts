/**
 * An Aave liquidation bot: every vault whose HF is below 1 is liquidated with `liquidationCall` (WETH collateral,
 * USDC debt), as often as it takes to bring the HF back to 1 or above. Aave itself caps each call at its close
 * factor: half the debt, or all of it below HF 0.95. The penalty the owner pays is the fall in equity across the
 * calls (collateral seized less debt repaid, at the oracle price of that block). With `sell` (the `sellers` stress) it
 * sells the WETH it seized from each vault right after that vault's liquidation, into the WETH/USDC 0.05% pool through
 * the real SwapRouter, at any price: a liquidation bot holds no ETH risk.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { MaxUint256 } from "ethers";

import type { IERC20Detailed, Pool } from "../../typechain-types";
import { mined } from "../market/aave";
import { ASSETS, type Market } from "../market";
import { approveSales, sellWeth } from "./market/sellers";
import { liquidationCandidate, observe, type TrackedVault } from "./tracking";

const WAD = 10n ** 18n;
/** USDC the liquidator holds: far more than all the simulated vaults borrow. */
const LIQUIDATOR_USDC = 1_000_000_000n * 10n ** BigInt(ASSETS.USDC.decimals);
/** A safety stop: Aave's close factor brings any HF above 1 within two calls unless the debt is bad. */
const MAX_CALLS = 5;

export interface Liquidation {
  vault: TrackedVault;
  calls: number;
  penaltyBase: bigint;
  /** WETH seized (wei), and what selling it sold (wei) and brought (USDC raw); zero sold without `sell`. */
  seizedWeth: bigint;
  soldWeth: bigint;
  proceedsUsdc: bigint;
}

export interface LiquidatorOptions {
  /** Sell the seized WETH into the pool after each vault's liquidation. */
  sell?: boolean;
}

export class Liquidator {
  private constructor(
    private readonly market: Market,
    private readonly signer: HardhatEthersSigner,
    private readonly pool: Pool,
    private readonly weth: IERC20Detailed,
    private readonly usdc: IERC20Detailed,
    private readonly sell: boolean,
  ) {}

  /** Funds the market's liquidator with USDC and approves the pool; run before the policies' snapshot. */
  static async prepare(market: Market, options: LiquidatorOptions = {}): Promise<Liquidator> {
    const signer: HardhatEthersSigner = market.accounts.liquidator;
    const usdc = market.tokens.erc20.USDC.connect(signer);
    await market.world.fund("USDC", signer.address, LIQUIDATOR_USDC);
    await mined(usdc.approve(market.aave.pool, MaxUint256));
    const sell = options.sell ?? false;
    if (sell) await approveSales(market, signer);
    return new Liquidator(market, signer, market.aave.pool.connect(signer), market.tokens.erc20.WETH, usdc, sell);
  }

  /** Liquidates every vault predicted near HF 1 whose HF on chain is below 1; `price` is WETH's (8 decimals). */
  async run(vaults: readonly TrackedVault[], price: bigint): Promise<Liquidation[]> {
    const out: Liquidation[] = [];
    for (const vault of vaults) {
      if (!liquidationCandidate(vault, price)) continue;
      let account = await this.pool.getUserAccountData(vault.address);
      observe(vault, account.healthFactor, price);
      if (account.healthFactor >= WAD) continue;
      const equityBefore = account.totalCollateralBase - account.totalDebtBase;
      const wethBefore = await this.weth.balanceOf(this.signer.address);
      let calls = 0;
      // A vault whose collateral is all seized is left with bad debt: Aave refuses to liquidate it again (error 46).
      while (
        account.healthFactor < WAD &&
        account.totalDebtBase > 0n &&
        account.totalCollateralBase > 0n &&
        calls < MAX_CALLS
      ) {
        // Aave caps debtToCover at what the close factor allows.
        await mined(this.pool.liquidationCall(this.weth, this.usdc, vault.address, MaxUint256, false));
        calls++;
        account = await this.pool.getUserAccountData(vault.address);
      }
      observe(vault, account.healthFactor, price);
      const seizedWeth = (await this.weth.balanceOf(this.signer.address)) - wethBefore;
      const proceedsUsdc = this.sell ? await sellWeth(this.market, this.signer, seizedWeth) : 0n;
      out.push({
        vault,
        calls,
        penaltyBase: equityBefore - (account.totalCollateralBase - account.totalDebtBase),
        seizedWeth,
        soldWeth: this.sell ? seizedWeth : 0n,
        proceedsUsdc,
      });
    }
    return out;
  }
}
