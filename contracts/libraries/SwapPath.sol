// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

/// @title SwapPath
/// @notice Checks a Uniswap V3 `exactInput` path before a rebalance swaps along it.
/// @dev A path is `tokenIn (20 bytes) | fee (3) | token (20) | fee (3) | ... | tokenOut (20)`.
/// It takes `bytes memory`: a caller holding calldata pays one copy of at most 89 bytes, which keeps this first
/// version simple; a calldata twin can replace it if the copy ever matters.
library SwapPath {
    /// @notice The most hops a rebalance swap may take.
    uint256 internal constant MAX_HOPS = 3;

    uint256 private constant _ADDRESS_SIZE = 20;
    uint256 private constant _FEE_SIZE = 3;
    uint256 private constant _HOP_SIZE = _ADDRESS_SIZE + _FEE_SIZE;
    uint256 private constant _MIN_LENGTH = _ADDRESS_SIZE + _HOP_SIZE;

    /// @notice The path's length is not 20 + 23·n bytes with n >= 1.
    error SwapPathInvalidLength(uint256 length);
    /// @notice The path has more than `maxHops` hops.
    error SwapPathTooManyHops(uint256 hops, uint256 maxHops);
    /// @notice The path does not start at the expected token.
    error SwapPathWrongTokenIn(address expected, address actual);
    /// @notice The path does not end at the expected token.
    error SwapPathWrongTokenOut(address expected, address actual);
    /// @notice A hop's fee is not one of Uniswap V3's enabled tiers: 100, 500, 3000, 10000.
    error SwapPathInvalidFee(uint24 fee);
    /// @notice A token appears twice: a hop swaps it for itself, or tokenIn or tokenOut reappears in the middle.
    error SwapPathRepeatedToken(address token);

    /// @notice Checks that `path` goes from `tokenIn` to `tokenOut` in at most `MAX_HOPS` hops, each through an
    /// enabled fee tier and with no token repeated.
    /// @dev With at most 3 hops the checks (tokenIn != tokenOut, no intermediate equal to tokenIn, tokenOut or the
    /// previous intermediate) make all of the path's tokens distinct.
    /// @param path The encoded path.
    /// @param tokenIn The token the swap must spend.
    /// @param tokenOut The token the swap must buy.
    /// @return hops The number of hops (pools).
    /// @return totalFeePips The sum of the hops' fees, in hundredths of a bip (e.g. 500 + 3000), to price the swap.
    function validate(
        bytes memory path,
        address tokenIn,
        address tokenOut
    ) internal pure returns (uint256 hops, uint256 totalFeePips) {
        uint256 length = path.length;
        if (length < _MIN_LENGTH || (length - _ADDRESS_SIZE) % _HOP_SIZE != 0) revert SwapPathInvalidLength(length);
        hops = (length - _ADDRESS_SIZE) / _HOP_SIZE;
        if (hops > MAX_HOPS) revert SwapPathTooManyHops(hops, MAX_HOPS);

        address first = _tokenAt(path, 0);
        if (first != tokenIn) revert SwapPathWrongTokenIn(tokenIn, first);
        address last = _tokenAt(path, length - _ADDRESS_SIZE);
        if (last != tokenOut) revert SwapPathWrongTokenOut(tokenOut, last);
        if (tokenIn == tokenOut) revert SwapPathRepeatedToken(tokenOut);

        address previous = tokenIn;
        // Offsets are below 89 and the fee sum below 4·10000: nothing here can overflow.
        unchecked {
            uint256 feeOffset = _ADDRESS_SIZE;
            for (uint256 hop = 1; hop <= hops; ++hop) {
                uint24 fee = _feeAt(path, feeOffset);
                if (fee != 100 && fee != 500 && fee != 3000 && fee != 10_000) revert SwapPathInvalidFee(fee);
                totalFeePips += fee;
                if (hop < hops) {
                    address next = _tokenAt(path, feeOffset + _FEE_SIZE);
                    if (next == previous || next == tokenIn || next == tokenOut) revert SwapPathRepeatedToken(next);
                    previous = next;
                }
                feeOffset += _HOP_SIZE;
            }
        }
    }

    /// @notice The same pools in the opposite direction: the `exactOutput` encoding of an `exactInput` path, whose
    /// tokens run from the one bought back to the one spent.
    /// @dev The caller has shaped `path` with `validate`: 20 + 23·n bytes, n >= 1.
    /// @param path The encoded path.
    /// @return reversed The path from its last token to its first, through the same fees.
    function reverse(bytes memory path) internal pure returns (bytes memory reversed) {
        uint256 offset = path.length - _ADDRESS_SIZE;
        reversed = abi.encodePacked(_tokenAt(path, offset));
        // `offset` steps down by whole hops from the last token to the first, at 0.
        unchecked {
            while (offset != 0) {
                offset -= _HOP_SIZE;
                reversed = abi.encodePacked(reversed, _feeAt(path, offset + _ADDRESS_SIZE), _tokenAt(path, offset));
            }
        }
    }

    /// @notice The address at byte `offset` of `path`.
    /// @dev One mload of the 32 bytes from `offset` and a shift keep the top 20. Bytes past the end of `path` may
    /// be read but are shifted out; the caller keeps `offset + 20 <= path.length`.
    /// @param path The encoded path.
    /// @param offset The address's first byte.
    /// @return token The address.
    function _tokenAt(bytes memory path, uint256 offset) private pure returns (address token) {
        assembly ("memory-safe") {
            token := shr(96, mload(add(add(path, 32), offset)))
        }
    }

    /// @notice The 3-byte fee at byte `offset` of `path`.
    /// @dev As `_tokenAt`, keeping the top 3 bytes; the caller keeps `offset + 3 <= path.length`.
    /// @param path The encoded path.
    /// @param offset The fee's first byte.
    /// @return fee The fee, hundredths of a bip.
    function _feeAt(bytes memory path, uint256 offset) private pure returns (uint24 fee) {
        assembly ("memory-safe") {
            fee := shr(232, mload(add(add(path, 32), offset)))
        }
    }
}
