import fs from "node:fs";
import path from "node:path";

/**
 * The npm artifacts the local market deploys. They are the protocols' own published builds:
 * nothing here is recompiled, so the bytecode is what Aave and Uniswap shipped.
 */
const AAVE = "node_modules/@aave/core-v3/artifacts/contracts";
const UNI_CORE = "node_modules/@uniswap/v3-core/artifacts/contracts";
const UNI_PERIPHERY = "node_modules/@uniswap/v3-periphery/artifacts/contracts";

export const ARTIFACT_PATHS = {
  PoolAddressesProvider: `${AAVE}/protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json`,
  ACLManager: `${AAVE}/protocol/configuration/ACLManager.sol/ACLManager.json`,
  Pool: `${AAVE}/protocol/pool/Pool.sol/Pool.json`,
  PoolConfigurator: `${AAVE}/protocol/pool/PoolConfigurator.sol/PoolConfigurator.json`,
  SupplyLogic: `${AAVE}/protocol/libraries/logic/SupplyLogic.sol/SupplyLogic.json`,
  BorrowLogic: `${AAVE}/protocol/libraries/logic/BorrowLogic.sol/BorrowLogic.json`,
  LiquidationLogic: `${AAVE}/protocol/libraries/logic/LiquidationLogic.sol/LiquidationLogic.json`,
  EModeLogic: `${AAVE}/protocol/libraries/logic/EModeLogic.sol/EModeLogic.json`,
  BridgeLogic: `${AAVE}/protocol/libraries/logic/BridgeLogic.sol/BridgeLogic.json`,
  FlashLoanLogic: `${AAVE}/protocol/libraries/logic/FlashLoanLogic.sol/FlashLoanLogic.json`,
  PoolLogic: `${AAVE}/protocol/libraries/logic/PoolLogic.sol/PoolLogic.json`,
  ConfiguratorLogic: `${AAVE}/protocol/libraries/logic/ConfiguratorLogic.sol/ConfiguratorLogic.json`,
  AToken: `${AAVE}/protocol/tokenization/AToken.sol/AToken.json`,
  VariableDebtToken: `${AAVE}/protocol/tokenization/VariableDebtToken.sol/VariableDebtToken.json`,
  StableDebtToken: `${AAVE}/protocol/tokenization/StableDebtToken.sol/StableDebtToken.json`,
  DefaultReserveInterestRateStrategy: `${AAVE}/protocol/pool/DefaultReserveInterestRateStrategy.sol/DefaultReserveInterestRateStrategy.json`,
  AaveOracle: `${AAVE}/misc/AaveOracle.sol/AaveOracle.json`,
  AaveProtocolDataProvider: `${AAVE}/misc/AaveProtocolDataProvider.sol/AaveProtocolDataProvider.json`,
  WETH9: `${AAVE}/dependencies/weth/WETH9.sol/WETH9.json`,
  MintableERC20: `${AAVE}/mocks/tokens/MintableERC20.sol/MintableERC20.json`,
  IERC20Detailed: `${AAVE}/dependencies/openzeppelin/contracts/IERC20Detailed.sol/IERC20Detailed.json`,
  UniswapV3Factory: `${UNI_CORE}/UniswapV3Factory.sol/UniswapV3Factory.json`,
  UniswapV3Pool: `${UNI_CORE}/UniswapV3Pool.sol/UniswapV3Pool.json`,
  SwapRouter: `${UNI_PERIPHERY}/SwapRouter.sol/SwapRouter.json`,
  QuoterV2: `${UNI_PERIPHERY}/lens/QuoterV2.sol/QuoterV2.json`,
  NonfungiblePositionManager: `${UNI_PERIPHERY}/NonfungiblePositionManager.sol/NonfungiblePositionManager.json`,
} as const;

export type ArtifactName = keyof typeof ARTIFACT_PATHS;

/**
 * Where the npm artifacts are staged for typechain. Typechain mirrors input paths, and ts-node skips
 * anything under a `node_modules` folder, so bindings generated from the packages' own paths would not load.
 */
export const STAGED_ARTIFACTS_DIR = "cache/npm-artifacts";

/**
 * Copies each npm artifact to `STAGED_ARTIFACTS_DIR/<Name>.json`; returns the staged paths. Every compile runs this,
 * so a file already staged is left alone and a new one lands by rename: another process's typechain, reading the
 * folder at the same time, never sees a half-written file.
 */
export function stageExternalArtifacts(root: string): string[] {
  const dir = path.join(root, STAGED_ARTIFACTS_DIR);
  fs.mkdirSync(dir, { recursive: true });
  return Object.entries(ARTIFACT_PATHS).map(([name, source]) => {
    const target = path.join(STAGED_ARTIFACTS_DIR, `${name}.json`);
    const content = fs.readFileSync(path.join(root, source));
    const staged = path.join(root, target);
    if (!fs.existsSync(staged) || !fs.readFileSync(staged).equals(content)) {
      const partial = `${staged}.${process.pid}.tmp`;
      fs.writeFileSync(partial, content);
      fs.renameSync(partial, staged);
    }
    return target;
  });
}
