// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MintableERC20} from "@aave/core-v3/contracts/mocks/tokens/MintableERC20.sol";

import {IBallastVault} from "../interfaces/IBallastVault.sol";
import {IKeeperAuction} from "../interfaces/IKeeperAuction.sol";

/// @title KickingMintableERC20
/// @notice A test-only Aave `MintableERC20` whose next transfer, once armed, calls `auction.kick(vault)`: a token in
/// the middle of a keeper's swap path that re-enters the keeper auction mid-rebalance (outside review R4). The kick's
/// outcome is recorded, not propagated, so that the swap goes on either way, as an attacker's token would.
contract KickingMintableERC20 is MintableERC20 {
    /// @notice The auction and vault of the next attempt.
    IKeeperAuction public auction;
    address public vault;
    /// @notice Whether the next transfer attempts the kick (one attempt per arming).
    bool public armed;
    /// @notice Whether the last attempt's kick succeeded.
    bool public kicked;
    /// @notice The last attempt's revert data (empty when it succeeded).
    bytes public kickError;
    /// @notice The vault's HF when the last attempt ran: mid-rebalance.
    uint256 public hfSeen;

    /// @notice Emitted after each attempt.
    event KickAttempted(bool kicked, bytes reason, uint256 healthFactor);

    /// @param name Token name.
    /// @param symbol Token symbol.
    /// @param decimals Token decimals.
    constructor(string memory name, string memory symbol, uint8 decimals) MintableERC20(name, symbol, decimals) {}

    /// @notice Arms one kick of `vault_` on `auction_` at the next transfer. Unrestricted: a test token.
    function arm(IKeeperAuction auction_, address vault_) external {
        auction = auction_;
        vault = vault_;
        armed = true;
    }

    function _beforeTokenTransfer(address from, address to, uint256) internal override {
        if (!armed || from == address(0) || to == address(0)) return;
        armed = false;
        hfSeen = IBallastVault(vault).position().healthFactor;
        try auction.kick(vault) {
            kicked = true;
            delete kickError;
        } catch (bytes memory reason) {
            kicked = false;
            kickError = reason;
        }
        emit KickAttempted(kicked, kickError, hfSeen);
    }
}
