// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {FullMath} from "@uniswap/v4-core/src/libraries/FullMath.sol";

/// @title SwapImpact
/// @notice Pure maths of a swap's expected price impact, hop by hop, from each Uniswap V3 pool's in-range liquidity.
/// @dev Within its current tick range a V3 pool trades as a constant product with the virtual reserves
/// x = L / sqrtP (token0) and y = L * sqrtP (token1). Selling `a` of one side, after the fee, buys
/// `out * a / (in + a)` of the other and keeps `in / (in + a)` of the spot value. Past the range the liquidity
/// changes, so this is an estimate for sizing, not a quote: the oracle floor on the swap's output stays the bound.
library SwapImpact {
    uint256 internal constant WAD = 1e18;
    uint256 private constant _BPS = 10_000;
    uint256 private constant _Q96 = 1 << 96;
    uint256 private constant _FEE_UNIT = 1e6;

    /// @notice One hop: the share of spot value kept across the path so far, and the hop's expected output.
    /// @dev The reserves are at most 2^128 * 2^96 / 2^32 = 2^192 (a price is at least Uniswap's 2^32), so the share
    /// kept, a WAD times a reserve, fits without a 512-bit product.
    /// @param sqrtPriceX96 The pool's `slot0` price; zero (never initialised) keeps nothing.
    /// @param liquidity The pool's in-range liquidity; zero keeps nothing.
    /// @param fee The pool's fee, hundredths of a bip, taken from the input first.
    /// @param zeroForOne Whether the hop sells the pool's token0.
    /// @param amountIn The amount sold into the hop; zero keeps everything and buys nothing.
    /// @param retainedWad The share kept by the hops before, WAD.
    /// @param withOutput Whether to compute `amountOut`, which only a next hop needs.
    /// @return retained `retainedWad` times this hop's share kept, rounded down.
    /// @return amountOut The hop's output at constant product, rounded down; 0 unless `withOutput`.
    function hop(
        uint160 sqrtPriceX96,
        uint128 liquidity,
        uint24 fee,
        bool zeroForOne,
        uint256 amountIn,
        uint256 retainedWad,
        bool withOutput
    ) internal pure returns (uint256 retained, uint256 amountOut) {
        uint256 sold = FullMath.mulDiv(amountIn, _FEE_UNIT - fee, _FEE_UNIT);
        if (sold == 0) return (retainedWad, 0);
        if (sqrtPriceX96 == 0 || liquidity == 0) return (0, 0);
        uint256 reserveIn = zeroForOne ? _reserve0(sqrtPriceX96, liquidity) : _reserve1(sqrtPriceX96, liquidity);
        retained = (retainedWad * reserveIn) / (reserveIn + sold);
        if (withOutput) {
            uint256 reserveOut = zeroForOne ? _reserve1(sqrtPriceX96, liquidity) : _reserve0(sqrtPriceX96, liquidity);
            amountOut = FullMath.mulDiv(reserveOut, sold, reserveIn + sold);
        }
    }

    /// @dev x = L / sqrtP: a 224-bit product at most, so no 512-bit one.
    function _reserve0(uint160 sqrtPriceX96, uint128 liquidity) private pure returns (uint256) {
        return (uint256(liquidity) << 96) / sqrtPriceX96;
    }

    /// @dev y = L * sqrtP, whose product may pass 256 bits.
    function _reserve1(uint160 sqrtPriceX96, uint128 liquidity) private pure returns (uint256) {
        return FullMath.mulDiv(liquidity, sqrtPriceX96, _Q96);
    }

    /// @notice The impact of a path that kept `retainedWad` of its spot value, in bps, rounded up.
    /// @param retainedWad The share kept, WAD, at most `WAD`.
    /// @return The share lost, bps.
    function lostBps(uint256 retainedWad) internal pure returns (uint256) {
        return ((WAD - retainedWad) * _BPS + WAD - 1) / WAD;
    }
}
