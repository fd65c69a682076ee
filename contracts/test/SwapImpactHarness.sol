// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SwapImpact} from "../libraries/SwapImpact.sol";

/// @title SwapImpactHarness
/// @notice Exposes the internal SwapImpact library to tests.
contract SwapImpactHarness {
    function hop(
        uint160 sqrtPriceX96,
        uint128 liquidity,
        uint24 fee,
        bool zeroForOne,
        uint256 amountIn,
        uint256 retainedWad,
        bool withOutput
    ) external pure returns (uint256 retained, uint256 amountOut) {
        return SwapImpact.hop(sqrtPriceX96, liquidity, fee, zeroForOne, amountIn, retainedWad, withOutput);
    }

    function lostBps(uint256 retainedWad) external pure returns (uint256) {
        return SwapImpact.lostBps(retainedWad);
    }
}
