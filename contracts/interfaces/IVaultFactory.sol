// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IBallastVault} from "./IBallastVault.sol";
import {IKeeperAuction} from "./IKeeperAuction.sol";
import {IPriceGuard} from "./IPriceGuard.sol";
import {IRebalanceExecutor} from "./IRebalanceExecutor.sol";

/// @title IVaultFactory
/// @notice Deploys vault clones (EIP-1167) at an address fixed by (owner, salt), keeps the registry, holds the
/// protocol parameters every vault reads, and lets governance (the Ownable2Step owner) choose the (collateral, debt)
/// pairs and the guardian pause new leverage.
interface IVaultFactory {
    /// @notice Bounds every policy must respect.
    /// @param minHFFloor Lowest allowed `minHF`.
    /// @param maxHFCeiling Highest allowed `maxHF`.
    /// @param minBandGap Least distance between `minHF` and `targetHF`, and between `targetHF` and `maxHF`.
    /// @param hfTolerance How far from `targetHF` a rebalance may land.
    /// @param maxSlippageBpsCap Highest allowed `maxSlippageBps`.
    /// @param maxKeeperRewardBpsCap Highest allowed `maxKeeperRewardBps`.
    struct PolicyBounds {
        uint64 minHFFloor;
        uint64 maxHFCeiling;
        uint64 minBandGap;
        uint64 hfTolerance;
        uint16 maxSlippageBpsCap;
        uint16 maxKeeperRewardBpsCap;
    }

    /// @notice The caller is not the guardian.
    error FactoryNotGuardian(address caller);
    /// @notice A zero address was given.
    error FactoryZeroAddress();
    /// @notice The (collateral, debt) pair is not allowed.
    error FactoryPairNotAllowed(address collateralAsset, address debtAsset);
    /// @notice The pair cannot be allowed: `reason` says which Aave or oracle requirement failed.
    error FactoryPairInvalid(address collateralAsset, address debtAsset, string reason);
    /// @notice Policy bounds outside the hard limits fixed in the code.
    error FactoryBoundsInvalid();
    /// @notice `vault` does not use `asset` as collateral on Aave (or Aave does not list it).
    error FactoryNotCollateral(address vault, address asset);
    /// @notice A vault already exists for this (owner, salt).
    error FactoryVaultExists(address vault);
    /// @notice The keeper auction given to the constructor names another factory (`auctionFactory`): deploy the
    /// auction with the factory's address, predicted from the deployer's next nonce.
    error FactoryAuctionMismatch(address auction, address auctionFactory);

    /// @notice Emitted when a vault was created.
    event VaultCreated(
        address indexed owner,
        address indexed vault,
        address indexed collateralAsset,
        address debtAsset,
        bytes32 salt
    );
    /// @notice Emitted when governance allowed or disallowed a pair.
    event PairSet(address indexed collateralAsset, address indexed debtAsset, bool allowed);
    /// @notice Emitted when governance changed the policy bounds.
    event PolicyBoundsSet(PolicyBounds bounds);
    /// @notice Emitted when the guardian paused or resumed new leverage.
    event LeveragePaused(bool paused);
    /// @notice Emitted when governance replaced the guardian.
    event GuardianSet(address indexed guardian);

    /// @notice Creates the caller's vault for `salt`, with `policy`.
    function createVault(
        address collateralAsset,
        address debtAsset,
        IBallastVault.Policy calldata policy,
        bytes32 salt
    ) external returns (IBallastVault vault);

    /// @notice The address `createVault` gives for (owner, salt).
    function predictVault(address owner, bytes32 salt) external view returns (address);

    /// @notice Whether `vault` was created by this factory.
    function isVault(address vault) external view returns (bool);

    /// @notice Number of vaults created.
    function vaultCount() external view returns (uint256);

    /// @notice The vault created `index`-th.
    function vaultAt(uint256 index) external view returns (address);

    /// @notice Allows or disallows a pair; allowing checks it against Aave and the price guard.
    /// @dev Allowing reverts with `FactoryPairInvalid`, or with the price guard's error (`PriceGuardNoRoundData`,
    /// `PriceGuardStalePrice`, ...) when the guard cannot price either asset now.
    function setPair(address collateralAsset, address debtAsset, bool allowed) external;

    /// @notice Whether a pair is allowed.
    function isPairAllowed(address collateralAsset, address debtAsset) external view returns (bool);

    /// @notice Replaces the policy bounds, within the hard limits.
    function setPolicyBounds(PolicyBounds calldata bounds) external;

    /// @notice The policy bounds.
    function policyBounds() external view returns (PolicyBounds memory);

    /// @notice Reverts unless `policy` lies within the policy bounds, with the vault's errors
    /// (`VaultPolicyBandInvalid`, `VaultPolicySlippageAboveCap`, `VaultPolicyUrgentSlippageInvalid`,
    /// `VaultPolicyRewardAboveCap`, `VaultPolicyRewardCapZero`). Every vault validates its policy here, which keeps
    /// the vault within EIP-170.
    function checkPolicy(IBallastVault.Policy calldata policy) external view;

    /// @notice `policy` as keeper rebalances apply it under the current bounds: `maxSlippageBps`,
    /// `urgentSlippageBps` and `maxKeeperRewardBps` at most their caps, `minHF` at least the floor (for the band
    /// check); the other fields as they are. Bounds lowered after a vault set its policy thus reach that vault at its
    /// next rebalance.
    function boundedPolicy(IBallastVault.Policy calldata policy) external view returns (IBallastVault.Policy memory);

    /// @notice Guardian: pauses or resumes new leverage (open, leverage-up). Deleverage, repay, withdraw and close
    /// are never paused by the protocol.
    function setLeveragePaused(bool paused) external;

    /// @notice Whether new leverage is paused.
    function leveragePaused() external view returns (bool);

    /// @notice What every rebalance reads, in one call: the guardian's leverage pause and the HF tolerance.
    function rebalanceLimits() external view returns (bool leveragePaused, uint256 hfTolerance);

    /// @notice Reverts `FactoryNotCollateral` unless `vault` uses `asset` as collateral on Aave. Read by a vault's
    /// `disableCollateral`, here rather than in the vault to keep the vault within the contract size limit.
    /// @param vault The account whose Aave configuration is read.
    /// @param asset The asset.
    function checkCollateralOf(address vault, address asset) external view;

    /// @notice Governance: replaces the guardian.
    function setGuardian(address guardian) external;

    /// @notice The guardian address.
    function guardian() external view returns (address);

    /// @notice The executor every vault uses.
    function EXECUTOR() external view returns (IRebalanceExecutor);

    /// @notice The price guard every vault uses.
    function PRICE_GUARD() external view returns (IPriceGuard);

    /// @notice The vault implementation the clones delegate to.
    function VAULT_IMPLEMENTATION() external view returns (address);

    /// @notice The keeper auction, deployed just before the factory and naming it; the only caller a vault pays a
    /// keeper reward.
    function AUCTION() external view returns (IKeeperAuction);
}
