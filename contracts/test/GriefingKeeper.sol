// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IKeeperAuction} from "../interfaces/IKeeperAuction.sol";

/// @title GriefingKeeper
/// @notice A test-only keeper contract that is as hostile a reward recipient as it can be: any call it does not know
/// and any plain ETH transfer burn almost all the gas they are given and then revert. It executes auctions with
/// itself as the recipient, once or twice for the same vault in one transaction.
contract GriefingKeeper {
    /// @notice The auction it executes through.
    IKeeperAuction public immutable AUCTION;

    /// @dev Written in the gas-burning loop so that the optimiser cannot drop it.
    uint256 private _sink;

    /// @notice Emitted with the reward `execute` returned.
    event Rewarded(uint256 reward);

    /// @notice Every call to the fallback or `receive` ends with this, after burning the gas.
    error GriefingKeeperRefused();

    /// @param auction The keeper auction.
    constructor(IKeeperAuction auction) {
        AUCTION = auction;
    }

    receive() external payable {
        _burnAndRevert();
    }

    fallback() external payable {
        _burnAndRevert();
    }

    /// @notice Executes the auction for `vault` with this contract as the recipient.
    /// @param vault The vault.
    /// @param path Its swap path.
    /// @param maxAmountIn The hint.
    /// @return reward What the auction paid.
    function execute(address vault, bytes calldata path, uint256 maxAmountIn) external returns (uint256 reward) {
        reward = AUCTION.execute(vault, path, maxAmountIn, address(this));
        emit Rewarded(reward);
    }

    /// @notice Executes the auction for `vault` twice in one transaction, trying to be paid twice.
    /// @param vault The vault.
    /// @param path Its swap path.
    /// @param maxAmountIn The hint.
    function executeTwice(address vault, bytes calldata path, uint256 maxAmountIn) external {
        emit Rewarded(AUCTION.execute(vault, path, maxAmountIn, address(this)));
        emit Rewarded(AUCTION.execute(vault, path, maxAmountIn, address(this)));
    }

    /// @dev Spins until little gas is left, writing storage on every turn, then reverts.
    function _burnAndRevert() private {
        uint256 i = 0;
        while (gasleft() > 30_000) {
            _sink = i;
            ++i;
        }
        revert GriefingKeeperRefused();
    }
}
