// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IPool} from "@aave/core-v3/contracts/interfaces/IPool.sol";

import {IBallastVault} from "../../interfaces/IBallastVault.sol";
import {IRebalanceExecutor} from "../../interfaces/IRebalanceExecutor.sol";
import {IVaultFactory} from "../../interfaces/IVaultFactory.sol";
import {RebalanceMath} from "../../libraries/RebalanceMath.sol";
import {VaultPlanner} from "../../libraries/VaultPlanner.sol";

/// @title CollateralLogic
/// @notice What a vault does with its collateral's identity: switch it to another asset, and disable foreign
/// collateral supplied on its behalf (R1). In the style of Aave's logic libraries: an external library whose public
/// functions the vault reaches by DELEGATECALL, so that they run as the vault (its Aave position, its executor call,
/// its events) while their code stays out of the vault's 24,576 bytes. It writes no storage and reads the vault
/// through its public getters; the vault records a new collateral once `switchCollateral` returns.
library CollateralLogic {
    /// @notice Moves all of the vault's collateral into `newCollateral`: flash-borrow it and supply it, withdraw
    /// and sell the old along `path` for at least its oracle value less the slippage bound, repay the loan, supply the
    /// rest; then pay `fee` of the new collateral to `feeTo` and check the HF and the equity loss. The factory's
    /// current cap bounds `slippageBps`, and its floor the vault's `minHF`.
    /// @dev The vault must have armed its executor callback (`releaseCollateral`) for the call. The report (direction
    /// `Switch`) is in the `CollateralSwitched` event.
    /// @param newCollateral The asset to move into.
    /// @param path The Uniswap V3 path from the vault's collateral to `newCollateral`.
    /// @param slippageBps The swap's slippage bound.
    /// @param fee What the submitter of a signed switch takes, in the new collateral (0 for the owner's own).
    /// @param feeTo The submitter.
    /// @return newDecimals The new collateral's token decimals, for the vault to record.
    function switchCollateral(
        address newCollateral,
        bytes calldata path,
        uint256 slippageBps,
        uint256 fee,
        address feeTo
    ) public returns (uint8 newDecimals) {
        // Running as the vault, the library reads the vault's immutables and pair through its own getters.
        IBallastVault vault = IBallastVault(address(this));
        (IVaultFactory factory, IPool pool) = (vault.FACTORY(), vault.POOL());
        address collateralAsset = vault.collateralAsset();
        address debtAsset = vault.debtAsset();
        if (newCollateral == collateralAsset || !factory.isPairAllowed(newCollateral, debtAsset)) {
            revert IBallastVault.VaultSwitchNotAllowed(collateralAsset, newCollateral);
        }
        // The factory's current bounds apply, as to every rebalance (R6): its cap on the slippage bound, its floor
        // under minHF.
        IVaultFactory.PolicyBounds memory bounds = factory.policyBounds();
        if (slippageBps > bounds.maxSlippageBpsCap) slippageBps = bounds.maxSlippageBpsCap;
        newDecimals = IERC20Metadata(newCollateral).decimals();
        VaultPlanner.Context memory ctx;
        ctx.priceGuard = vault.PRICE_GUARD();
        ctx.direction = IRebalanceExecutor.Direction.Switch;
        ctx.collateralAsset = collateralAsset;
        ctx.collateralDecimals = IERC20Metadata(collateralAsset).decimals();
        ctx.debtAsset = newCollateral;
        ctx.debtDecimals = newDecimals;
        ctx.slippageBps = slippageBps;
        // Each collateral priced against the debt asset through its pair's own TWAP agreement, as for a leverage: a
        // switch is no rescue, and the pairs' reference pools already exist.
        (ctx.collateralPrice, ) = ctx.priceGuard.checkedPrices(collateralAsset, debtAsset);
        (ctx.debtPrice, ) = ctx.priceGuard.checkedPrices(newCollateral, debtAsset);
        ctx.premiumBps = pool.FLASHLOAN_PREMIUM_TOTAL();
        ctx.before = vault.position();
        // New collateral someone supplied to the vault and had disabled (`disableCollateral`) would not back the
        // withdrawal of the old.
        if (_aTokenBalance(pool, newCollateral) != 0) pool.setUserUseReserveAsCollateral(newCollateral, true);
        IRebalanceExecutor.Plan memory plan = VaultPlanner.switchPlan(ctx, path, _aTokenBalance(pool, collateralAsset));
        IRebalanceExecutor.Execution memory ex = vault.EXECUTOR().execute(plan);
        if (fee != 0) pool.withdraw(newCollateral, fee, feeTo);
        IBallastVault.Position memory after_ = vault.position();
        uint256 minHF = vault.policy().minHF;
        if (minHF < bounds.minHFFloor) minHF = bounds.minHFFloor;
        if (after_.healthFactor < minHF) revert IBallastVault.VaultHealthBelowMin(after_.healthFactor, minHF);
        IBallastVault.RebalanceReport memory report = VaultPlanner.checkOutcome(
            ctx,
            plan,
            ex,
            after_,
            RebalanceMath.toBase(fee, ctx.debtPrice, ctx.debtDecimals)
        );
        emit IBallastVault.CollateralSwitched(collateralAsset, newCollateral, report);
    }

    /// @notice Disables `asset`, which is not the vault's collateral, as collateral of the vault (see
    /// `IBallastVault.disableCollateral`).
    /// @param asset The foreign asset.
    /// @param caller Who asked, for the event.
    function disableCollateral(address asset, address caller) public {
        IBallastVault vault = IBallastVault(address(this));
        if (asset == vault.collateralAsset()) revert IBallastVault.VaultCollateralAssetKept(asset);
        vault.FACTORY().checkCollateralOf(address(this), asset);
        vault.POOL().setUserUseReserveAsCollateral(asset, false);
        emit IBallastVault.CollateralDisabled(asset, caller);
    }

    function _aTokenBalance(IPool pool, address asset) private view returns (uint256) {
        return IERC20(pool.getReserveData(asset).aTokenAddress).balanceOf(address(this));
    }
}
