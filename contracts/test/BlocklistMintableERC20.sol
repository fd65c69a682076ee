// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MintableERC20} from "@aave/core-v3/contracts/mocks/tokens/MintableERC20.sol";

/// @title BlocklistMintableERC20
/// @notice A test-only Aave `MintableERC20` that refuses transfers and mints to blocked recipients, as USDC's
/// blacklist does. Its only state comes after the parent's, so its runtime code can replace a deployed
/// `MintableERC20`'s (`hardhat_setCode`) and every balance, allowance and the permit domain survive.
contract BlocklistMintableERC20 is MintableERC20 {
    /// @notice Whether transfers to an address are refused.
    mapping(address account => bool) public blocked;

    /// @notice Emitted when an address was blocked or unblocked.
    event BlockedSet(address indexed account, bool blocked);

    /// @notice A transfer or mint to a blocked recipient.
    error BlocklistRecipientBlocked(address recipient);

    /// @param name Token name.
    /// @param symbol Token symbol.
    /// @param decimals Token decimals.
    constructor(string memory name, string memory symbol, uint8 decimals) MintableERC20(name, symbol, decimals) {}

    /// @notice Blocks or unblocks `account` as a recipient. Unrestricted: a test token.
    /// @param account The address.
    /// @param isBlocked Whether transfers to it are refused.
    function setBlocked(address account, bool isBlocked) external {
        blocked[account] = isBlocked;
        emit BlockedSet(account, isBlocked);
    }

    function _beforeTokenTransfer(address, address to, uint256) internal view override {
        if (blocked[to]) revert BlocklistRecipientBlocked(to);
    }
}
