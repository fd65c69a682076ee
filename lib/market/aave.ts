import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { ZeroAddress, type ContractTransactionResponse } from "ethers";

import {
  AaveOracle__factory,
  AaveProtocolDataProvider__factory,
  ACLManager__factory,
  AToken__factory,
  BorrowLogic__factory,
  BridgeLogic__factory,
  ConfiguratorLogic__factory,
  DefaultReserveInterestRateStrategy__factory,
  EModeLogic__factory,
  FlashLoanLogic__factory,
  LiquidationLogic__factory,
  Pool__factory,
  PoolAddressesProvider__factory,
  PoolConfigurator__factory,
  PoolLogic__factory,
  StableDebtToken__factory,
  SupplyLogic__factory,
  VariableDebtToken__factory,
  type AaveOracle,
  type AaveProtocolDataProvider,
  type ACLManager,
  type AToken,
  type Pool,
  type PoolAddressesProvider,
  type PoolConfigurator,
  type VariableDebtToken,
} from "../../typechain-types";
import {
  ASSET_SYMBOLS,
  ASSETS,
  FLASHLOAN_PREMIUM_TOTAL_BPS,
  ORACLE_BASE_CURRENCY_UNIT,
  type AssetSymbol,
} from "./config";
import type { RateStrategyParams } from "./config";

export interface AaveMarket {
  addressesProvider: PoolAddressesProvider;
  aclManager: ACLManager;
  pool: Pool;
  configurator: PoolConfigurator;
  oracle: AaveOracle;
  dataProvider: AaveProtocolDataProvider;
  aTokens: Record<AssetSymbol, AToken>;
  variableDebtTokens: Record<AssetSymbol, VariableDebtToken>;
}

export const MARKET_ID = "Ballast Local Market";
/** Aave's own mainnet value for the stable-rate ratio; stable borrowing stays disabled. */
const OPTIMAL_STABLE_TO_TOTAL_DEBT_RATIO = 2n * 10n ** 26n;

export async function mined(tx: Promise<ContractTransactionResponse>): Promise<void> {
  await (await tx).wait();
}

/**
 * Deploys Aave V3 (core-v3 1.19) from its npm artifacts the way aave-v3-deploy does: provider, ACL,
 * linked Pool and PoolConfigurator behind the provider's proxies, oracle, data provider, token
 * implementations and one reserve per asset.
 */
export async function deployAave(
  admin: HardhatEthersSigner,
  treasury: string,
  assets: Record<AssetSymbol, string>,
  feeds: Record<AssetSymbol, string>,
): Promise<AaveMarket> {
  const addressesProvider = await new PoolAddressesProvider__factory(admin).deploy(MARKET_ID, admin.address);
  await mined(addressesProvider.setACLAdmin(admin.address));
  const aclManager = await new ACLManager__factory(admin).deploy(addressesProvider);
  await mined(addressesProvider.setACLManager(aclManager));
  await mined(aclManager.addPoolAdmin(admin.address));
  await mined(aclManager.addEmergencyAdmin(admin.address));

  // Sequential deploys keep every address, and so every pool's token order, the same on each run.
  const supply = await new SupplyLogic__factory(admin).deploy();
  const borrow = await new BorrowLogic__factory(admin).deploy();
  const liquidation = await new LiquidationLogic__factory(admin).deploy();
  const eMode = await new EModeLogic__factory(admin).deploy();
  const bridge = await new BridgeLogic__factory(admin).deploy();
  const poolLogic = await new PoolLogic__factory(admin).deploy();
  const configuratorLogic = await new ConfiguratorLogic__factory(admin).deploy();
  const flashLoan = await new FlashLoanLogic__factory(
    { "contracts/protocol/libraries/logic/BorrowLogic.sol:BorrowLogic": await borrow.getAddress() },
    admin,
  ).deploy();

  const poolImpl = await new Pool__factory(
    {
      "contracts/protocol/libraries/logic/LiquidationLogic.sol:LiquidationLogic": await liquidation.getAddress(),
      "contracts/protocol/libraries/logic/SupplyLogic.sol:SupplyLogic": await supply.getAddress(),
      "contracts/protocol/libraries/logic/EModeLogic.sol:EModeLogic": await eMode.getAddress(),
      "contracts/protocol/libraries/logic/BorrowLogic.sol:BorrowLogic": await borrow.getAddress(),
      "contracts/protocol/libraries/logic/FlashLoanLogic.sol:FlashLoanLogic": await flashLoan.getAddress(),
      "contracts/protocol/libraries/logic/PoolLogic.sol:PoolLogic": await poolLogic.getAddress(),
      "contracts/protocol/libraries/logic/BridgeLogic.sol:BridgeLogic": await bridge.getAddress(),
    },
    admin,
  ).deploy(addressesProvider);
  // Initialising the implementation itself stops anyone else from doing so.
  await mined(poolImpl.initialize(addressesProvider));
  await mined(addressesProvider.setPoolImpl(poolImpl));
  const pool = Pool__factory.connect(await addressesProvider.getPool(), admin);

  const configuratorImpl = await new PoolConfigurator__factory(
    {
      "contracts/protocol/libraries/logic/ConfiguratorLogic.sol:ConfiguratorLogic":
        await configuratorLogic.getAddress(),
    },
    admin,
  ).deploy();
  await mined(configuratorImpl.initialize(addressesProvider));
  await mined(addressesProvider.setPoolConfiguratorImpl(configuratorImpl));
  const configurator = PoolConfigurator__factory.connect(await addressesProvider.getPoolConfigurator(), admin);

  const assetList = ASSET_SYMBOLS.map((s) => assets[s]);
  const oracle = await new AaveOracle__factory(admin).deploy(
    addressesProvider,
    assetList,
    ASSET_SYMBOLS.map((s) => feeds[s]),
    ZeroAddress,
    ZeroAddress,
    ORACLE_BASE_CURRENCY_UNIT,
  );
  await mined(addressesProvider.setPriceOracle(oracle));
  const dataProvider = await new AaveProtocolDataProvider__factory(admin).deploy(addressesProvider);
  await mined(addressesProvider.setPoolDataProvider(dataProvider));

  const aTokenImpl = await new AToken__factory(admin).deploy(pool);
  const variableDebtImpl = await new VariableDebtToken__factory(admin).deploy(pool);
  const stableDebtImpl = await new StableDebtToken__factory(admin).deploy(pool);

  const strategies = new Map<RateStrategyParams, string>();
  for (const symbol of ASSET_SYMBOLS) {
    const rates = ASSETS[symbol].rates;
    if (strategies.has(rates)) continue;
    const strategy = await new DefaultReserveInterestRateStrategy__factory(admin).deploy(
      addressesProvider,
      rates.optimalUsageRatio,
      rates.baseVariableBorrowRate,
      rates.variableRateSlope1,
      rates.variableRateSlope2,
      0n,
      0n,
      0n,
      0n,
      OPTIMAL_STABLE_TO_TOTAL_DEBT_RATIO,
    );
    strategies.set(rates, await strategy.getAddress());
  }

  await mined(
    configurator.initReserves(
      ASSET_SYMBOLS.map((symbol) => ({
        aTokenImpl: aTokenImpl,
        stableDebtTokenImpl: stableDebtImpl,
        variableDebtTokenImpl: variableDebtImpl,
        underlyingAssetDecimals: ASSETS[symbol].decimals,
        interestRateStrategyAddress: strategies.get(ASSETS[symbol].rates)!,
        underlyingAsset: assets[symbol],
        treasury,
        incentivesController: ZeroAddress,
        aTokenName: `Aave Local ${symbol}`,
        aTokenSymbol: `aLoc${symbol}`,
        variableDebtTokenName: `Aave Local Variable Debt ${symbol}`,
        variableDebtTokenSymbol: `variableDebtLoc${symbol}`,
        stableDebtTokenName: `Aave Local Stable Debt ${symbol}`,
        stableDebtTokenSymbol: `stableDebtLoc${symbol}`,
        params: "0x",
      })),
    ),
  );

  for (const symbol of ASSET_SYMBOLS) {
    const p = ASSETS[symbol];
    const asset = assets[symbol];
    if (p.ltvBps > 0n) {
      await mined(
        configurator.configureReserveAsCollateral(asset, p.ltvBps, p.liquidationThresholdBps, p.liquidationBonusBps),
      );
    }
    await mined(configurator.setReserveBorrowing(asset, p.borrowingEnabled));
    await mined(configurator.setReserveFlashLoaning(asset, true));
    await mined(configurator.setSupplyCap(asset, p.supplyCap));
    await mined(configurator.setBorrowCap(asset, p.borrowCap));
    await mined(configurator.setReserveFactor(asset, p.reserveFactorBps));
  }
  await mined(configurator.updateFlashloanPremiumTotal(FLASHLOAN_PREMIUM_TOTAL_BPS));

  const aTokens = {} as Record<AssetSymbol, AToken>;
  const variableDebtTokens = {} as Record<AssetSymbol, VariableDebtToken>;
  for (const symbol of ASSET_SYMBOLS) {
    const reserve = await pool.getReserveData(assets[symbol]);
    aTokens[symbol] = AToken__factory.connect(reserve.aTokenAddress, admin);
    variableDebtTokens[symbol] = VariableDebtToken__factory.connect(reserve.variableDebtTokenAddress, admin);
  }

  return { addressesProvider, aclManager, pool, configurator, oracle, dataProvider, aTokens, variableDebtTokens };
}
