// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IBallastVault} from "./IBallastVault.sol";
import {IRebalanceExecutor} from "./IRebalanceExecutor.sol";
import {IVaultFactory} from "./IVaultFactory.sol";

/// @title IVaultLens
/// @notice A stateless read-only view over many Ballast vaults, so that a keeper can scan the whole registry in one
/// `eth_call`. It holds nothing and changes nothing; every figure is what the vault's own views return in the same
/// block.
/// @dev The position is read once per vault: `needed`, `direction`, `amountIn` and `urgency` are derived from it with
/// the maths `rebalanceNeeded()` runs (it would read Aave's account data a second time), so they equal its values.
interface IVaultLens {
    /// @notice One vault's state and whether a keeper may rebalance it.
    /// @param vault The vault.
    /// @param owner `vault.owner()`.
    /// @param collateralAsset `vault.collateralAsset()`.
    /// @param debtAsset `vault.debtAsset()`.
    /// @param policy `vault.policy()`, as stored; `needed` applies its band as the vault does, with minHF raised to
    /// the factory's `minHFFloor`.
    /// @param position `vault.position()`; zero when `ok` is false because `position()` reverted.
    /// @param automationPaused `vault.automationPaused()`.
    /// @param needed First value of `vault.rebalanceNeeded()`; false when `ok` is false.
    /// @param direction Second value of `vault.rebalanceNeeded()`; `None` when `ok` is false.
    /// @param amountIn Third value of `vault.rebalanceNeeded()`; 0 when `ok` is false.
    /// @param urgency Fourth value of `vault.rebalanceNeeded()`; 0 when `ok` is false.
    /// @param kickedAt When the keeper auction for this vault started (`auction.auctionOf(vault).kickedAt`, 0 = none
    /// running), from the vault's own `AUCTION()`.
    /// @param rewardBps `auction.currentRewardBps(vault)` when an auction runs, else 0.
    /// @param ok False when `position()` or `rebalanceNeeded()` reverted (e.g. a stale price feed); the other fields
    /// are still filled in.
    /// @param revertData The revert data of the call that failed (`position()` first, else `rebalanceNeeded()`);
    /// empty when `ok` is true.
    struct VaultStatus {
        address vault;
        address owner;
        address collateralAsset;
        address debtAsset;
        IBallastVault.Policy policy;
        IBallastVault.Position position;
        bool automationPaused;
        bool needed;
        IRebalanceExecutor.Direction direction;
        uint256 amountIn;
        uint256 urgency;
        uint64 kickedAt;
        uint16 rewardBps;
        bool ok;
        bytes revertData;
    }

    /// @notice The status of each vault, in order. A vault whose `position()` or `rebalanceNeeded()` reverts is
    /// reported with `ok` false and the revert data; it never reverts the whole call.
    /// @dev Every address must be a Ballast vault (from a factory registry or checked with `isVault`): the static
    /// views (owner, assets, policy, pause) are read with plain calls, and an address without them reverts the call.
    /// @param vaults The vaults to read.
    /// @return The status of each vault, in the order given.
    function statuses(address[] calldata vaults) external view returns (VaultStatus[] memory);

    /// @notice The status of the factory's vaults `start` to `start + count - 1`, clamped to `vaultCount()`; empty
    /// when `start` is at or past the end.
    /// @param factory The factory whose registry is read.
    /// @param start Index of the first vault.
    /// @param count Most vaults to return.
    /// @return The status of each vault, in registry order.
    function scan(IVaultFactory factory, uint256 start, uint256 count) external view returns (VaultStatus[] memory);
}
