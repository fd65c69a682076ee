// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TwapMath} from "../libraries/TwapMath.sol";

/// @title TwapMathHarness
/// @notice Exposes the internal TwapMath library to tests.
contract TwapMathHarness {
    function meanTick(int56 tickCumulativeDelta, uint32 window) external pure returns (int24) {
        return TwapMath.meanTick(tickCumulativeDelta, window);
    }

    function priceWadAtTick(
        int24 tick,
        bool baseIsToken0,
        uint8 baseDecimals,
        uint8 quoteDecimals
    ) external pure returns (uint256) {
        return TwapMath.priceWadAtTick(tick, baseIsToken0, baseDecimals, quoteDecimals);
    }
}
