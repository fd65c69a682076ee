// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title ERC4626Probe
/// @notice Test harness: reads a vault's `preview*` and runs the matching action in the same transaction, which is
/// where ERC-4626 promises they agree, and reports both. The caller's assets and shares are used: it approves this
/// probe for the assets (deposit, mint) or the shares (withdraw, redeem), and receives everything.
contract ERC4626Probe {
    using SafeERC20 for IERC20;

    /// @notice Emitted with what `preview*` said and what the action did, in the same units.
    event Compared(uint256 preview, uint256 actual);
    /// @notice Emitted with the assets one whole share converted to just before and just after the action: what the
    /// other holders' shares are worth, free of anything that happens between blocks.
    event SharePrice(uint256 priceBefore, uint256 priceAfter);

    /// @notice `previewDeposit` then `deposit` of the caller's `assets`, minting to the caller.
    function deposit(IERC4626 vault, uint256 assets) external {
        IERC20 asset = IERC20(vault.asset());
        asset.safeTransferFrom(msg.sender, address(this), assets);
        asset.forceApprove(address(vault), assets);
        uint256 price = _sharePrice(vault);
        uint256 preview = vault.previewDeposit(assets);
        emit Compared(preview, vault.deposit(assets, msg.sender));
        emit SharePrice(price, _sharePrice(vault));
    }

    /// @notice `previewMint` then `mint` of `shares` to the caller, paid with at most `maxAssets` of the caller's.
    function mint(IERC4626 vault, uint256 shares, uint256 maxAssets) external {
        IERC20 asset = IERC20(vault.asset());
        asset.safeTransferFrom(msg.sender, address(this), maxAssets);
        asset.forceApprove(address(vault), maxAssets);
        uint256 price = _sharePrice(vault);
        uint256 preview = vault.previewMint(shares);
        emit Compared(preview, vault.mint(shares, msg.sender));
        emit SharePrice(price, _sharePrice(vault));
        asset.forceApprove(address(vault), 0);
        asset.safeTransfer(msg.sender, asset.balanceOf(address(this)));
    }

    /// @notice `previewRedeem` then `redeem` of the caller's `shares`, paid to the caller.
    function redeem(IERC4626 vault, uint256 shares) external {
        uint256 price = _sharePrice(vault);
        uint256 preview = vault.previewRedeem(shares);
        emit Compared(preview, vault.redeem(shares, msg.sender, msg.sender));
        emit SharePrice(price, _sharePrice(vault));
    }

    /// @notice `previewWithdraw` then `withdraw` of `assets` from the caller's shares, paid to the caller.
    function withdraw(IERC4626 vault, uint256 assets) external {
        uint256 price = _sharePrice(vault);
        uint256 preview = vault.previewWithdraw(assets);
        emit Compared(preview, vault.withdraw(assets, msg.sender, msg.sender));
        emit SharePrice(price, _sharePrice(vault));
    }

    function _sharePrice(IERC4626 vault) private view returns (uint256) {
        return vault.convertToAssets(10 ** vault.decimals());
    }
}
