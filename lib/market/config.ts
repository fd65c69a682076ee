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

/** Enough observation slots for a 30-minute TWAP even with a swap in every 12-second block. */
export const OBSERVATION_CARDINALITY = 200;

/** The TWAP window the market guarantees, in seconds. */
export const TWAP_WINDOW = 1_800;

/** The world helper's bound on |pool price / oracle price - 1| after an arbitrage, in bps. */
export const ARBITRAGE_TOLERANCE_BPS = 1n;

export const poolKey = (p: Pick<PoolParams, "base" | "quote" | "fee">): string => `${p.base}/${p.quote}/${p.fee}`;
