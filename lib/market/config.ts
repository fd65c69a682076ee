/**
 * Parameters of the local market. Risk parameters follow Aave V3 Ethereum's listings; liquidity is
 * sized so that 100 vaults can delever through a 50% crash (see README, "The local market").
 */

export const ASSET_SYMBOLS = ["WETH", "WBTC", "USDC"] as const;
export type AssetSymbol = (typeof ASSET_SYMBOLS)[number];

/** Aave's AaveOracle quotes in USD with 8 decimals, as Chainlink's USD feeds do. */
export const ORACLE_DECIMALS = 8;
export const ORACLE_BASE_CURRENCY_UNIT = 10n ** 8n;

/** Aave V3 Ethereum's flash-loan premium: 5 bps. */
export const FLASHLOAN_PREMIUM_TOTAL_BPS = 5n;

const RAY = 10n ** 27n;
/** A rate in basis points, in Aave's ray units (1e27 = 100%). */
const rayBps = (bps: bigint): bigint => (RAY * bps) / 10_000n;

export interface RateStrategyParams {
  optimalUsageRatio: bigint;
  baseVariableBorrowRate: bigint;
  variableRateSlope1: bigint;
  variableRateSlope2: bigint;
}

export interface AssetParams {
  symbol: AssetSymbol;
  name: string;
  decimals: number;
  /** Initial USD price, 8 decimals. */
  initialPrice: bigint;
  /** Loan-to-value, liquidation threshold, liquidation bonus, reserve factor: Aave bps. Zero LTV = not collateral. */
  ltvBps: bigint;
  liquidationThresholdBps: bigint;
  liquidationBonusBps: bigint;
  reserveFactorBps: bigint;
  borrowingEnabled: boolean;
  /** Caps in whole tokens, as Aave stores them. */
  supplyCap: bigint;
  borrowCap: bigint;
  rates: RateStrategyParams;
  /** Whole tokens the LP supplies to Aave so that borrowing and flash loans have liquidity. */
  aaveLiquidity: bigint;
}

const VOLATILE_RATES: RateStrategyParams = {
  optimalUsageRatio: rayBps(8_000n),
  baseVariableBorrowRate: 0n,
  variableRateSlope1: rayBps(380n),
  variableRateSlope2: rayBps(8_000n),
};

const STABLE_RATES: RateStrategyParams = {
  optimalUsageRatio: rayBps(9_000n),
  baseVariableBorrowRate: 0n,
  variableRateSlope1: rayBps(400n),
  variableRateSlope2: rayBps(6_000n),
};

export const ASSETS: Record<AssetSymbol, AssetParams> = {
  WETH: {
    symbol: "WETH",
    name: "Wrapped Ether",
    decimals: 18,
    initialPrice: 2_000n * ORACLE_BASE_CURRENCY_UNIT,
    ltvBps: 8_000n,
    liquidationThresholdBps: 8_250n,
    liquidationBonusBps: 10_500n,
    reserveFactorBps: 1_500n,
    borrowingEnabled: true,
    supplyCap: 2_000_000n,
    borrowCap: 1_400_000n,
    rates: VOLATILE_RATES,
    aaveLiquidity: 100_000n,
  },
  WBTC: {
    symbol: "WBTC",
    name: "Wrapped BTC",
    decimals: 8,
    initialPrice: 60_000n * ORACLE_BASE_CURRENCY_UNIT,
    ltvBps: 7_300n,
    liquidationThresholdBps: 7_800n,
    liquidationBonusBps: 10_500n,
    reserveFactorBps: 2_000n,
    borrowingEnabled: true,
    supplyCap: 43_000n,
    borrowCap: 28_000n,
    rates: VOLATILE_RATES,
    aaveLiquidity: 5_000n,
  },
  USDC: {
    symbol: "USDC",
    name: "USD Coin",
    decimals: 6,
    initialPrice: ORACLE_BASE_CURRENCY_UNIT,
    ltvBps: 0n,
    liquidationThresholdBps: 0n,
    liquidationBonusBps: 0n,
    reserveFactorBps: 1_000n,
    borrowingEnabled: true,
    supplyCap: 3_000_000_000n,
    borrowCap: 2_700_000_000n,
    rates: STABLE_RATES,
    aaveLiquidity: 400_000_000n,
  },
};

/** A liquidity position: a whole range or a band of `rangeFactor` either side of the initial price. */
export interface PositionParams {
  /** Undefined = full range. Otherwise the position spans [P / rangeFactor, P * rangeFactor]. */
  rangeFactor?: number;
  /** Whole units of the base asset put in; the quote side is matched at the initial price. */
  baseAmount: bigint;
}

export interface PoolParams {
  base: AssetSymbol;
  quote: AssetSymbol;
  fee: number;
  positions: PositionParams[];
}

/** Concentrated liquidity spans [P/2.5, 2.5P], so it still works after a 50% crash or a doubling. */
const CONCENTRATED_RANGE = 2.5;

export const POOLS: PoolParams[] = [
  {
    base: "WETH",
    quote: "USDC",
    fee: 500,
    positions: [{ baseAmount: 50_000n }, { baseAmount: 50_000n, rangeFactor: CONCENTRATED_RANGE }],
  },
  {
    base: "WETH",
    quote: "USDC",
    fee: 3_000,
    positions: [{ baseAmount: 20_000n }, { baseAmount: 10_000n, rangeFactor: CONCENTRATED_RANGE }],
  },
  {
    base: "WBTC",
    quote: "USDC",
    fee: 3_000,
    positions: [{ baseAmount: 1_500n }, { baseAmount: 1_500n, rangeFactor: CONCENTRATED_RANGE }],
  },
];

/**
 * Mainnet-calibrated WETH/USDC liquidity, an option only the keeper simulation takes (`deployMarket(hre, onStep,
 * { liquidity: "mainnet" })`, with the `liquidity` stress); every test and the gas benchmark keep `POOLS`.
 *
 * Calibrated on the USD it takes to move each pool's price by 2% (its depth within 2%), not on its TVL, because depth
 * is what a swap of the vaults, the liquidator or an outside seller meets. An approximation, from two figures:
 *  - TVL: Kaiko's documentation of its Uniswap V3 pool-token dataset (docs.kaiko.com, "Tokens in a liquidity pool",
 *    read in 2026) shows, as its example row, the USDC/WETH 0.05% pool 0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640 on
 *    2023-02-12 at 0.00064953 WETH per USDC (ETH ≈ $1,540) holding 43.8M USDC and 28,450 WETH: about $88M. It is a
 *    documentation example, not a snapshot we pulled, and the pool's TVL moves a lot over time;
 *  - concentration: assuming that TVL sat evenly within ±10% of the price (the window Kaiko's Uniswap V3 liquidity
 *    estimator reports), each side holds ~$44M over 10%, so ~$8.8M per 2%. We take **$8M** within 2% for the 0.05%
 *    pool, and **$2M** for the 0.3% pool (0x8ad599c3a0ff1de082011efddc58f1908eb6e6d8), whose TVL was several times
 *    smaller (assumed, not measured). Real depth varies by a factor of several across days and years.
 * The local pools put that depth in a band over [P/2.5, 2.5P] plus a full-range position, so the depth stays about the
 * same across a 50% crash (as mainnet LPs re-centring their ranges would keep it) until the LPs withdraw under
 * volatility (lib/simulation/market/liquidity.ts). Depth at 2% ≈ 2.76% of a 2.5x band's base-side value plus 1.0% of a
 * full range's: 0.05%: 137,000 band + 20,000 full WETH at $2,000 ≈ $7.6M + $0.4M = $8.0M; 0.3%: 34,000 + 5,000 ≈
 * $1.9M + $0.1M = $2.0M. Static wide bands need far more TVL for that depth than mainnet's narrow, re-centred ranges
 * (~$630M and ~$156M here): TVL is not what this calibrates. For comparison, the default `POOLS` hold ~$3.8M and
 * ~$1.0M within 2% (their $370M of TVL sits mostly in full-range positions): the calibration is about twice as deep at
 * rest; what makes it harsher is what the stress adds (LP withdrawal, a finite arbitrageur, larger vaults).
 */
export const MAINNET_POOLS: PoolParams[] = [
  {
    base: "WETH",
    quote: "USDC",
    fee: 500,
    positions: [{ baseAmount: 20_000n }, { baseAmount: 137_000n, rangeFactor: CONCENTRATED_RANGE }],
  },
  {
    base: "WETH",
    quote: "USDC",
    fee: 3_000,
    positions: [{ baseAmount: 5_000n }, { baseAmount: 34_000n, rangeFactor: CONCENTRATED_RANGE }],
  },
  POOLS[2],
];

/** The pools' liquidity: `local` (`POOLS`, the default) or `mainnet` (`MAINNET_POOLS`). */
export type MarketLiquidity = "local" | "mainnet";

export const poolSet = (liquidity: MarketLiquidity): PoolParams[] => (liquidity === "mainnet" ? MAINNET_POOLS : POOLS);

/** Enough observation slots for a 30-minute TWAP even with a swap in every 12-second block. */
export const OBSERVATION_CARDINALITY = 200;

/** The TWAP window the market guarantees, in seconds. */
export const TWAP_WINDOW = 1_800;

/** The world helper's bound on |pool price / oracle price - 1| after an arbitrage, in bps. */
export const ARBITRAGE_TOLERANCE_BPS = 1n;

export const poolKey = (p: Pick<PoolParams, "base" | "quote" | "fee">): string => `${p.base}/${p.quote}/${p.fee}`;
