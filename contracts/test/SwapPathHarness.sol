// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SwapPath} from "../libraries/SwapPath.sol";

/// @title SwapPathHarness
/// @notice Exposes `SwapPath` to tests, passing calldata paths as callers will, plus a `gasleft()` gas probe.
contract SwapPathHarness {
    /// @notice The library's hop limit.
    /// @return `SwapPath.MAX_HOPS`.
    function maxHops() external pure returns (uint256) {
        return SwapPath.MAX_HOPS;
    }

    /// @notice See `SwapPath.validate`.
    /// @param path The encoded path.
    /// @param tokenIn The expected first token.
    /// @param tokenOut The expected last token.
    /// @return hops The number of hops.
    /// @return totalFeePips The sum of the fees, hundredths of a bip.
    function validate(
        bytes calldata path,
        address tokenIn,
        address tokenOut
    ) external pure returns (uint256 hops, uint256 totalFeePips) {
        return SwapPath.validate(path, tokenIn, tokenOut);
    }

    /// @notice Gas of one `SwapPath.validate` call, measured with `gasleft()`; it includes copying the calldata
    /// path to memory, as a caller holding calldata pays it.
    /// @param path The encoded path.
    /// @param tokenIn The expected first token.
    /// @param tokenOut The expected last token.
    /// @return hops The number of hops.
    /// @return totalFeePips The sum of the fees.
    /// @return gasUsed The gas used.
    function validateGas(
        bytes calldata path,
        address tokenIn,
        address tokenOut
    ) external view returns (uint256 hops, uint256 totalFeePips, uint256 gasUsed) {
        uint256 before = gasleft();
        (hops, totalFeePips) = SwapPath.validate(path, tokenIn, tokenOut);
        gasUsed = before - gasleft();
    }

    /// @notice See `SwapPath.reverse`.
    /// @param path The encoded path.
    /// @return The path in the opposite direction.
    function reverse(bytes calldata path) external pure returns (bytes memory) {
        return SwapPath.reverse(path);
    }
}
