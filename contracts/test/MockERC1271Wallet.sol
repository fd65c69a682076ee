// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title MockERC1271Wallet
/// @notice A test-only smart wallet with one EOA key: it accepts a signature over a hash iff the signature recovers
/// to that key (EIP-1271), and lets the key make arbitrary calls from the wallet, so the wallet can create and run a
/// vault.
contract MockERC1271Wallet is IERC1271 {
    /// @notice The EOA whose signatures the wallet accepts and who may call `execute`.
    address public immutable SIGNER;

    /// @notice The caller is not the wallet's signer.
    error WalletNotSigner(address caller);
    /// @notice The call made through `execute` reverted; its revert data is bubbled up as `reason`.
    error WalletCallFailed(address target, bytes reason);

    /// @param signer The wallet's key.
    constructor(address signer) {
        SIGNER = signer;
    }

    /// @notice Calls `target` with `data` from the wallet.
    /// @return result The call's return data.
    function execute(address target, bytes calldata data) external returns (bytes memory result) {
        if (msg.sender != SIGNER) revert WalletNotSigner(msg.sender);
        bool success;
        (success, result) = target.call(data);
        if (!success) revert WalletCallFailed(target, result);
    }

    /// @inheritdoc IERC1271
    /// @dev Malformed signatures (bad length, high s) are refused, not reverted on.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view override returns (bytes4) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        return
            err == ECDSA.RecoverError.NoError && recovered == SIGNER
                ? IERC1271.isValidSignature.selector
                : bytes4(0xffffffff);
    }
}
