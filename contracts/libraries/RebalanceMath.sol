// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {FullMath} from "@uniswap/v4-core/src/libraries/FullMath.sol";

import {IBallastVault} from "../interfaces/IBallastVault.sol";
import {IRebalanceExecutor} from "../interfaces/IRebalanceExecutor.sol";

/// @title RebalanceMath
/// @notice Health-factor maths of a rebalance: Aave's HF, the size of a delever or lever that lands the HF on a
/// target, conversions between base values and token amounts, the oracle floor on a swap's output, urgency, and the
/// band rule.
/// @dev Units: "base" values are Aave base-currency values (USD, 8 decimals, as `IPool.getUserAccountData` returns
/// them); HFs are WAD; the liquidation threshold `lt` is in Aave bps; `k = (BPS - costBps) / BPS` is the share of a
/// swap's input value that arrives as output. Notation below: C, D = collateral and debt base values, T = target HF,
/// c = costBps.
/// Domain of the sizes: with C, D < 2^128, T < 2^96 and lt, c <= BPS no intermediate product overflows. Outside it
/// the checked arithmetic reverts with a Panic; it never wraps. The conversions take 512-bit products (mulDiv).
library RebalanceMath {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;

    /// @dev Aave's PercentageMath rounds half up: it adds half a bp before dividing by BPS.
    uint256 private constant _HALF_BPS = 5_000;
    /// @dev Worst case by which Aave's percentMul rounds C'·lt below C'·lt/BPS, in bp units: floor((x + 5000) / BPS)
    /// >= (x - 4999) / BPS.
    uint256 private constant _PERCENT_MUL_LOSS = 4_999;

    /// @notice The target HF cannot be reached: the cost makes each step move the HF away from the target, or the
    /// size would sell more than the collateral or repay the whole debt.
    error RebalanceMathInfeasible(uint256 collateralBase, uint256 debtBase, uint256 targetHF);
    /// @notice A cost or slippage in bps above 100%.
    error RebalanceMathBpsOutOfRange(uint256 bps);
    /// @notice A zero price as a divisor.
    error RebalanceMathZeroPrice();
    /// @notice `urgency` needs `minHF > WAD` so that its scale is not empty.
    error RebalanceMathMinHFTooLow(uint256 minHF);

    /// @notice The band rule every rebalance follows: Deleverage below `minHF`, Leverage above `maxHF`, else None;
    /// None for a position without debt, which has nothing to keep in band.
    function band(
        IBallastVault.Position memory pos,
        IBallastVault.Policy memory p
    ) internal pure returns (IRebalanceExecutor.Direction) {
        uint256 hf = pos.healthFactor;
        if (pos.debtBase == 0) return IRebalanceExecutor.Direction.None;
        if (hf < p.minHF) return IRebalanceExecutor.Direction.Deleverage;
        if (hf > p.maxHF) return IRebalanceExecutor.Direction.Leverage;
        return IRebalanceExecutor.Direction.None;
    }

    /// @notice Aave's health factor, rounding exactly as Aave does: `wadDiv(percentMul(C, lt), D)`, both half up.
    /// @param collateralBase Collateral value C, base units.
    /// @param debtBase Debt value D, base units.
    /// @param liquidationThresholdBps Liquidation threshold lt, bps.
    /// @return The HF, WAD; `type(uint256).max` when D is 0, as Aave reports it.
    function healthFactor(
        uint256 collateralBase,
        uint256 debtBase,
        uint256 liquidationThresholdBps
    ) internal pure returns (uint256) {
        if (debtBase == 0) return type(uint256).max;
        uint256 adjusted = (collateralBase * liquidationThresholdBps + _HALF_BPS) / BPS;
        return (adjusted * WAD + debtBase / 2) / debtBase;
    }

    /// @notice Collateral value to sell so that the HF lands on `targetHF` (never below it) after deleveraging, when
    /// selling w of collateral repays w·k of debt.
    /// @dev Derivation: HF' = T means C'·lt·WAD = T·D'·BPS. Selling w gives C' = C - w and
    /// D'·BPS = D·BPS - w·(BPS - c), so w·(T·(BPS - c) - lt·WAD) = T·D·BPS - C·lt·WAD, i.e.
    /// w = (T·D·BPS - C·lt·WAD) / (T·(BPS - c) - lt·WAD),
    /// positive and increasing the HF only if T·k > lt. Rounding: percentMul can lose 4999 bp units of C'·lt and a
    /// floored repayment BPS - 1 of D'·BPS, so the numerator adds both worst cases (4999·WAD + T·(BPS - 1)) and the
    /// quotient rounds up; then (C'·lt - 4999)·WAD >= T·D'·BPS, hence Aave's HF(C', D') >= T whenever at least
    /// floor(w·k) is repaid. Overshoot: HF' - T < (T·(BPS - 1) + 9999·WAD + den) / (D'·BPS) + 1/2 wei, den the divisor
    /// above; relative about (2 + WAD/T) / D', i.e. a few base units of debt (1e-8 USD each).
    /// @param collateralBase Collateral value C, base units.
    /// @param debtBase Debt value D, base units.
    /// @param liquidationThresholdBps Liquidation threshold lt, bps.
    /// @param targetHF Target HF T, WAD.
    /// @param costBps Swap cost c (fees plus slippage), bps of the value sold.
    /// @return collateralToSellBase w, base units; 0 when Aave's HF is already >= T.
    function deleverageSize(
        uint256 collateralBase,
        uint256 debtBase,
        uint256 liquidationThresholdBps,
        uint256 targetHF,
        uint256 costBps
    ) internal pure returns (uint256 collateralToSellBase) {
        if (costBps > BPS) revert RebalanceMathBpsOutOfRange(costBps);
        if (healthFactor(collateralBase, debtBase, liquidationThresholdBps) >= targetHF) return 0;
        uint256 keptBps;
        // costBps <= BPS was checked.
        unchecked {
            keptBps = BPS - costBps;
        }
        uint256 gain = targetHF * keptBps;
        uint256 threshold = liquidationThresholdBps * WAD;
        // Unless T·k > lt, selling moves the HF away from T: it rises only while HF > lt/k.
        if (gain <= threshold) revert RebalanceMathInfeasible(collateralBase, debtBase, targetHF);
        // The worst-case T·D'·BPS to cover, before the sale. It exceeds C·lt·WAD: HF < T bounds C·lt·WAD below
        // T·D·BPS + 4999·WAD.
        uint256 required = targetHF * (debtBase * BPS + (BPS - 1)) + _PERCENT_MUL_LOSS * WAD;
        uint256 numerator = required - collateralBase * threshold;
        // gain > threshold was checked, and the rounded-up quotient cannot exceed the numerator.
        unchecked {
            uint256 denominator = gain - threshold;
            collateralToSellBase = numerator / denominator;
            if (numerator % denominator != 0) ++collateralToSellBase;
        }
        // Selling it all, or repaying every unit of debt (dust, where the rounding margins dominate), misses T.
        if (collateralToSellBase > collateralBase || collateralToSellBase * keptBps >= debtBase * BPS) {
            revert RebalanceMathInfeasible(collateralBase, debtBase, targetHF);
        }
    }

    /// @notice Debt value to add so that the HF lands on `targetHF` (never below it) after leveraging up, when
    /// borrowing b buys b·k of collateral.
    /// @dev Derivation: HF' = T means C'·lt·WAD = T·D'·BPS. Borrowing b gives C'·BPS = C·BPS + b·(BPS - c) and
    /// D' = D + b; times BPS, b·(T·BPS² - (BPS - c)·lt·WAD) = C·lt·BPS·WAD - T·D·BPS², so
    /// b = (C·lt·BPS·WAD - T·D·BPS²) / (T·BPS² - (BPS - c)·lt·WAD), positive and lowering the HF only if T > k·lt.
    /// Rounding: the numerator subtracts the worst cases of a floored purchase ((BPS - 1)·lt) and of percentMul
    /// (4999·BPS), times WAD, and the quotient rounds down; then Aave's HF(C', D') >= T whenever at least floor(b·k)
    /// is bought. Overshoot: HF' - T < (((BPS - 1)·lt + 9999·BPS)·WAD + den) / (D'·BPS²) + 1/2 wei, den the divisor
    /// above; relative about (1 + 2·WAD/T) / D'.
    /// @param collateralBase Collateral value C, base units.
    /// @param debtBase Debt value D, base units; 0 opens a position.
    /// @param liquidationThresholdBps Liquidation threshold lt, bps.
    /// @param targetHF Target HF T, WAD.
    /// @param costBps Swap cost c (fees plus slippage), bps of the value bought with.
    /// @return debtToAddBase b, base units; 0 when Aave's HF is already <= T or lies above T by less than the
    /// rounding margin.
    function leverageSize(
        uint256 collateralBase,
        uint256 debtBase,
        uint256 liquidationThresholdBps,
        uint256 targetHF,
        uint256 costBps
    ) internal pure returns (uint256 debtToAddBase) {
        if (costBps > BPS) revert RebalanceMathBpsOutOfRange(costBps);
        if (healthFactor(collateralBase, debtBase, liquidationThresholdBps) <= targetHF) return 0;
        uint256 debtWeight = targetHF * (BPS * BPS);
        uint256 collateralWeight = (BPS - costBps) * liquidationThresholdBps * WAD;
        // Unless T > k·lt, borrowing never gets the HF down to T: it only tends to k·lt.
        if (debtWeight <= collateralWeight) revert RebalanceMathInfeasible(collateralBase, debtBase, targetHF);
        uint256 capacity = collateralBase * liquidationThresholdBps * (BPS * WAD);
        uint256 margin = ((BPS - 1) * liquidationThresholdBps + _PERCENT_MUL_LOSS * BPS) * WAD;
        uint256 used = targetHF * (debtBase * (BPS * BPS)) + margin;
        // Within the rounding margin of the target already.
        if (capacity <= used) return 0;
        // Both differences were checked positive above.
        unchecked {
            debtToAddBase = (capacity - used) / (debtWeight - collateralWeight);
        }
    }

    /// @notice A base value as a token amount: `valueBase · 10^decimals / price`, rounded down.
    /// @param valueBase The value, base units.
    /// @param price The token's price, base units per whole token; not zero.
    /// @param decimals The token's decimals.
    /// @return The amount, in the token's smallest units.
    function toAmount(uint256 valueBase, uint256 price, uint8 decimals) internal pure returns (uint256) {
        if (price == 0) revert RebalanceMathZeroPrice();
        return FullMath.mulDiv(valueBase, 10 ** decimals, price);
    }

    /// @notice A token amount as a base value: `amount · price / 10^decimals`, rounded down.
    /// @param amount The amount, in the token's smallest units.
    /// @param price The token's price, base units per whole token.
    /// @param decimals The token's decimals.
    /// @return The value, base units.
    function toBase(uint256 amount, uint256 price, uint8 decimals) internal pure returns (uint256) {
        return FullMath.mulDiv(amount, price, 10 ** decimals);
    }

    /// @notice The least output the vault accepts for `amountIn` of tokenIn: its oracle value in tokenOut less
    /// `slippageBps`, i.e. amountIn·priceIn·10^decimalsOut·(BPS - slippageBps) / (priceOut·10^decimalsIn·BPS).
    /// @dev Rounded up: the bound is a floor on what the vault accepts. Only 10^|decimalsOut - decimalsIn| scales
    /// one side, which is the same ratio with smaller factors; the one 512-bit product is amountIn times the rest.
    /// @param amountIn The input amount, tokenIn's smallest units.
    /// @param priceIn tokenIn's price, base units per whole token.
    /// @param decimalsIn tokenIn's decimals.
    /// @param priceOut tokenOut's price, base units per whole token; not zero.
    /// @param decimalsOut tokenOut's decimals.
    /// @param slippageBps The tolerated shortfall against the oracle value, bps; at most BPS.
    /// @return The minimum output, tokenOut's smallest units.
    function minAmountOut(
        uint256 amountIn,
        uint256 priceIn,
        uint8 decimalsIn,
        uint256 priceOut,
        uint8 decimalsOut,
        uint256 slippageBps
    ) internal pure returns (uint256) {
        if (slippageBps > BPS) revert RebalanceMathBpsOutOfRange(slippageBps);
        if (priceOut == 0) revert RebalanceMathZeroPrice();
        uint256 numerator = priceIn * (BPS - slippageBps);
        uint256 denominator = priceOut * BPS;
        if (decimalsOut >= decimalsIn) numerator *= 10 ** (decimalsOut - decimalsIn);
        else denominator *= 10 ** (decimalsIn - decimalsOut);
        return FullMath.mulDivRoundingUp(amountIn, numerator, denominator);
    }

    /// @notice How close the HF is to liquidation: 0 at or above `minHF`, rising linearly to WAD at or below 1.0.
    /// @dev urgency = (minHF - hf)·WAD / (minHF - WAD), clamped to [0, WAD] and rounded down.
    /// @param hf The health factor, WAD.
    /// @param minHF The bottom of the vault's band, WAD; above WAD.
    /// @return The urgency, WAD.
    function urgency(uint256 hf, uint256 minHF) internal pure returns (uint256) {
        if (minHF <= WAD) revert RebalanceMathMinHFTooLow(minHF);
        if (hf >= minHF) return 0;
        if (hf <= WAD) return WAD;
        return FullMath.mulDiv(minHF - hf, WAD, minHF - WAD);
    }

    /// @notice The slippage bound of a keeper's deleverage: the policy's `maxSlippageBps` at `minHF`, rising linearly
    /// with `urgency` to `urgentSlippageBps` at HF 1.0, rounded down.
    /// @dev The factory keeps `urgentSlippageBps >= maxSlippageBps` (`checkPolicy`, and `boundedPolicy` clamps both to
    /// one cap).
    /// @param hf The health factor, WAD.
    /// @param p The vault's policy, within the factory's bounds.
    /// @return The bound, bps.
    function saleSlippageBps(uint256 hf, IBallastVault.Policy memory p) internal pure returns (uint256) {
        return p.maxSlippageBps + ((p.urgentSlippageBps - p.maxSlippageBps) * urgency(hf, p.minHF)) / WAD;
    }
}
