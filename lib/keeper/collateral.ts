/**
 * Foreign collateral (finding R1): anyone may supply an asset on a vault's behalf, and Aave enables it as collateral.
 * Once that reserve's LTV is 0 (Aave sets it on a freeze), Aave refuses every withdrawal of the vault's own collateral
 * while debt remains, with its error 57 (LTV_VALIDATION_FAILED), so every rebalance fails. Anyone may then call the
 * vault's `disableCollateral(asset)`.
 */
import { getAddress, type ContractRunner } from "ethers";

import { IPool__factory } from "../../typechain-types";

/** Aave V3's LTV_VALIDATION_FAILED, as an `Error(string)` revert. */
export const AAVE_LTV_VALIDATION_FAILED = "57";

/**
 * The assets other than `collateralAsset` that `vault` uses as collateral on `pool`: the collateral bit (`id * 2 + 1`)
 * of Aave's user configuration, for each listed reserve.
 */
export async function foreignCollateral(
  runner: ContractRunner,
  pool: string,
  vault: string,
  collateralAsset: string,
): Promise<string[]> {
  const aave = IPool__factory.connect(pool, runner);
  const [{ data }, reserves] = await Promise.all([aave.getUserConfiguration(vault), aave.getReservesList()]);
  const own = getAddress(collateralAsset);
  const foreign: string[] = [];
  for (const asset of reserves) {
    if (getAddress(asset) === own) continue;
    // A dropped reserve leaves a hole in the list: the reserve's own id, not its index, locates its bits.
    const { id } = await aave.getReserveData(asset);
    if (((data >> (BigInt(id) * 2n + 1n)) & 1n) === 1n) foreign.push(getAddress(asset));
  }
  return foreign;
}
