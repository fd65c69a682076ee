// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {FullMath} from "@uniswap/v4-core/src/libraries/FullMath.sol";
import {TickMath} from "@uniswap/v4-core/src/libraries/TickMath.sol";

/// @title TwapMath
/// @notice Pure maths of the price guard: the arithmetic mean tick of a Uniswap V3 pool over a window,
/// and the price at a tick as whole quote per whole base, WAD.
library TwapMath {
    uint256 internal constant WAD = 1e18;
    uint256 private constant _Q64 = 1 << 64;
    uint256 private constant _Q128 = 1 << 128;
    uint256 private constant _Q192 = 1 << 192;

    /// @notice The arithmetic mean tick over `window` seconds, rounded toward negative infinity exactly as
    /// Uniswap's `OracleLibrary.consult` does.
    /// @param tickCumulativeDelta `tickCumulatives[1] - tickCumulatives[0]` from `observe([window, 0])`.
    /// @param window The window, in seconds; not zero.
    function meanTick(int56 tickCumulativeDelta, uint32 window) internal pure returns (int24 tick) {
        int56 span = int56(uint56(window));
        // A mean of ticks lies within [MIN_TICK, MAX_TICK], so it fits in int24.
        tick = int24(tickCumulativeDelta / span);
        if (tickCumulativeDelta < 0 && tickCumulativeDelta % span != 0) --tick;
    }

    /// @notice The price at `tick` of one whole base in whole quote, WAD, rounded down.
    /// @dev The pool's price is token1 per token0 in raw units, sqrtPriceX96^2 / 2^192. Its square is taken
    /// exactly when sqrtPriceX96 fits in 128 bits, and otherwise in Q128 as `OracleLibrary.getQuoteAtTick`
    /// does. Dividing by `quoteUnit` after the mulDiv equals one floor division by the whole denominator.
    /// @param tick The tick.
    /// @param baseIsToken0 Whether the base token is the pool's token0.
    /// @param baseDecimals The base token's decimals.
    /// @param quoteDecimals The quote token's decimals.
    function priceWadAtTick(
        int24 tick,
        bool baseIsToken0,
        uint8 baseDecimals,
        uint8 quoteDecimals
    ) internal pure returns (uint256) {
        uint256 sqrtPriceX96 = TickMath.getSqrtPriceAtTick(tick);
        // Scaling the numerator by the base unit and WAD before the division keeps every significant digit.
        uint256 scale = 10 ** baseDecimals * WAD;
        uint256 quoteUnit = 10 ** quoteDecimals;
        uint256 raw;
        if (sqrtPriceX96 <= type(uint128).max) {
            uint256 ratioX192 = sqrtPriceX96 * sqrtPriceX96;
            raw = baseIsToken0 ? FullMath.mulDiv(ratioX192, scale, _Q192) : FullMath.mulDiv(_Q192, scale, ratioX192);
        } else {
            uint256 ratioX128 = FullMath.mulDiv(sqrtPriceX96, sqrtPriceX96, _Q64);
            raw = baseIsToken0 ? FullMath.mulDiv(ratioX128, scale, _Q128) : FullMath.mulDiv(_Q128, scale, ratioX128);
        }
        return raw / quoteUnit;
    }
}
