// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBallastVault} from "../interfaces/IBallastVault.sol";
import {IRebalanceExecutor} from "../interfaces/IRebalanceExecutor.sol";
import {RebalanceMath} from "../libraries/RebalanceMath.sol";

/// @title RebalanceMathHarness
/// @notice Exposes `RebalanceMath` to tests, plus gas probes that time one call with `gasleft()`.
contract RebalanceMathHarness {
    /// @notice See `RebalanceMath.healthFactor`.
    /// @param collateralBase Collateral value, base units.
    /// @param debtBase Debt value, base units.
    /// @param liquidationThresholdBps Liquidation threshold, bps.
    /// @return The HF, WAD.
    function healthFactor(
        uint256 collateralBase,
        uint256 debtBase,
        uint256 liquidationThresholdBps
    ) external pure returns (uint256) {
        return RebalanceMath.healthFactor(collateralBase, debtBase, liquidationThresholdBps);
    }

    /// @notice See `RebalanceMath.deleverageSize`.
    /// @param collateralBase Collateral value, base units.
    /// @param debtBase Debt value, base units.
    /// @param liquidationThresholdBps Liquidation threshold, bps.
    /// @param targetHF Target HF, WAD.
    /// @param costBps Swap cost, bps.
    /// @return Collateral value to sell, base units.
    function deleverageSize(
        uint256 collateralBase,
        uint256 debtBase,
        uint256 liquidationThresholdBps,
        uint256 targetHF,
        uint256 costBps
    ) external pure returns (uint256) {
        return RebalanceMath.deleverageSize(collateralBase, debtBase, liquidationThresholdBps, targetHF, costBps);
    }

    /// @notice See `RebalanceMath.leverageSize`.
    /// @param collateralBase Collateral value, base units.
    /// @param debtBase Debt value, base units.
    /// @param liquidationThresholdBps Liquidation threshold, bps.
    /// @param targetHF Target HF, WAD.
    /// @param costBps Swap cost, bps.
    /// @return Debt value to add, base units.
    function leverageSize(
        uint256 collateralBase,
        uint256 debtBase,
        uint256 liquidationThresholdBps,
        uint256 targetHF,
        uint256 costBps
    ) external pure returns (uint256) {
        return RebalanceMath.leverageSize(collateralBase, debtBase, liquidationThresholdBps, targetHF, costBps);
    }

    /// @notice See `RebalanceMath.toAmount`.
    /// @param valueBase Value, base units.
    /// @param price Price, base units per whole token.
    /// @param decimals Token decimals.
    /// @return Token amount.
    function toAmount(uint256 valueBase, uint256 price, uint8 decimals) external pure returns (uint256) {
        return RebalanceMath.toAmount(valueBase, price, decimals);
    }

    /// @notice See `RebalanceMath.toBase`.
    /// @param amount Token amount.
    /// @param price Price, base units per whole token.
    /// @param decimals Token decimals.
    /// @return Value, base units.
    function toBase(uint256 amount, uint256 price, uint8 decimals) external pure returns (uint256) {
        return RebalanceMath.toBase(amount, price, decimals);
    }

    /// @notice See `RebalanceMath.minAmountOut`.
    /// @param amountIn Input amount.
    /// @param priceIn Input token price.
    /// @param decimalsIn Input token decimals.
    /// @param priceOut Output token price.
    /// @param decimalsOut Output token decimals.
    /// @param slippageBps Slippage bound, bps.
    /// @return Minimum output amount.
    function minAmountOut(
        uint256 amountIn,
        uint256 priceIn,
        uint8 decimalsIn,
        uint256 priceOut,
        uint8 decimalsOut,
        uint256 slippageBps
    ) external pure returns (uint256) {
        return RebalanceMath.minAmountOut(amountIn, priceIn, decimalsIn, priceOut, decimalsOut, slippageBps);
    }

    /// @notice See `RebalanceMath.urgency`.
    /// @param hf Health factor, WAD.
    /// @param minHF Bottom of the band, WAD.
    /// @return Urgency, WAD.
    function urgency(uint256 hf, uint256 minHF) external pure returns (uint256) {
        return RebalanceMath.urgency(hf, minHF);
    }

    /// @notice `RebalanceMath.saleSlippageBps`.
    function saleSlippageBps(uint256 hf, IBallastVault.Policy memory p) external pure returns (uint256) {
        return RebalanceMath.saleSlippageBps(hf, p);
    }

    /// @notice `RebalanceMath.band`.
    function band(
        IBallastVault.Position calldata pos,
        IBallastVault.Policy calldata p
    ) external pure returns (IRebalanceExecutor.Direction) {
        return RebalanceMath.band(pos, p);
    }

    /// @notice Gas of one `RebalanceMath.deleverageSize` call, measured with `gasleft()`.
    /// @param collateralBase Collateral value, base units.
    /// @param debtBase Debt value, base units.
    /// @param liquidationThresholdBps Liquidation threshold, bps.
    /// @param targetHF Target HF, WAD.
    /// @param costBps Swap cost, bps.
    /// @return result The size.
    /// @return gasUsed The gas the library call used.
    function deleverageSizeGas(
        uint256 collateralBase,
        uint256 debtBase,
        uint256 liquidationThresholdBps,
        uint256 targetHF,
        uint256 costBps
    ) external view returns (uint256 result, uint256 gasUsed) {
        uint256 before = gasleft();
        result = RebalanceMath.deleverageSize(collateralBase, debtBase, liquidationThresholdBps, targetHF, costBps);
        gasUsed = before - gasleft();
    }

    /// @notice Gas of one `RebalanceMath.leverageSize` call, measured with `gasleft()`.
    /// @param collateralBase Collateral value, base units.
    /// @param debtBase Debt value, base units.
    /// @param liquidationThresholdBps Liquidation threshold, bps.
    /// @param targetHF Target HF, WAD.
    /// @param costBps Swap cost, bps.
    /// @return result The size.
    /// @return gasUsed The gas the library call used.
    function leverageSizeGas(
        uint256 collateralBase,
        uint256 debtBase,
        uint256 liquidationThresholdBps,
        uint256 targetHF,
        uint256 costBps
    ) external view returns (uint256 result, uint256 gasUsed) {
        uint256 before = gasleft();
        result = RebalanceMath.leverageSize(collateralBase, debtBase, liquidationThresholdBps, targetHF, costBps);
        gasUsed = before - gasleft();
    }

    /// @notice Gas of one `RebalanceMath.minAmountOut` call, measured with `gasleft()`.
    /// @param amountIn Input amount.
    /// @param priceIn Input token price.
    /// @param decimalsIn Input token decimals.
    /// @param priceOut Output token price.
    /// @param decimalsOut Output token decimals.
    /// @param slippageBps Slippage bound, bps.
    /// @return result The minimum output.
    /// @return gasUsed The gas the library call used.
    function minAmountOutGas(
        uint256 amountIn,
        uint256 priceIn,
        uint8 decimalsIn,
        uint256 priceOut,
        uint8 decimalsOut,
        uint256 slippageBps
    ) external view returns (uint256 result, uint256 gasUsed) {
        uint256 before = gasleft();
        result = RebalanceMath.minAmountOut(amountIn, priceIn, decimalsIn, priceOut, decimalsOut, slippageBps);
        gasUsed = before - gasleft();
    }
}
