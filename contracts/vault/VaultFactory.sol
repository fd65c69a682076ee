// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IPool} from "@aave/core-v3/contracts/interfaces/IPool.sol";
import {DataTypes} from "@aave/core-v3/contracts/protocol/libraries/types/DataTypes.sol";
import {ReserveConfiguration} from "@aave/core-v3/contracts/protocol/libraries/configuration/ReserveConfiguration.sol";

import {IBallastVault} from "../interfaces/IBallastVault.sol";
import {IKeeperAuction} from "../interfaces/IKeeperAuction.sol";
import {IPriceGuard} from "../interfaces/IPriceGuard.sol";
import {IRebalanceExecutor} from "../interfaces/IRebalanceExecutor.sol";
import {IVaultFactory} from "../interfaces/IVaultFactory.sol";
import {BallastVault} from "./BallastVault.sol";

/// @title VaultFactory
/// @notice See {IVaultFactory}. Deploys its own vault implementation and takes a keeper auction deployed just before it
/// that names this factory (checked), so their immutable links back to the factory (and the vaults' link to the
/// auction) need no setter; the auction's code stays out of the factory's, within EIP-3860. Trusts one ERC-2771
/// forwarder, fixed at construction and shared with the vaults, so an owner can create a vault without gas.
contract VaultFactory is IVaultFactory, Ownable2Step, ERC2771Context {
    using ReserveConfiguration for DataTypes.ReserveConfigurationMap;

    /// @dev Hard limits on the policy bounds, fixed in code so governance cannot stray past them.
    uint64 public constant HARD_MIN_HF_FLOOR = 1.01e18;
    uint64 public constant HARD_MAX_HF_CEILING = 10e18;
    uint64 public constant HARD_MIN_BAND_GAP = 0.01e18;
    uint16 public constant HARD_MAX_SLIPPAGE_BPS = 1_000;
    uint16 public constant HARD_MAX_KEEPER_REWARD_BPS = 1_000;
    uint64 public constant HARD_MIN_HF_TOLERANCE = 0.001e18;

    /// @notice The Aave V3 pool every vault uses.
    IPool public immutable POOL;
    /// @inheritdoc IVaultFactory
    IRebalanceExecutor public immutable override EXECUTOR;
    /// @inheritdoc IVaultFactory
    IPriceGuard public immutable override PRICE_GUARD;
    /// @inheritdoc IVaultFactory
    address public immutable override VAULT_IMPLEMENTATION;
    /// @inheritdoc IVaultFactory
    IKeeperAuction public immutable override AUCTION;

    /// @inheritdoc IVaultFactory
    address public override guardian;
    /// @inheritdoc IVaultFactory
    bool public override leveragePaused;
    PolicyBounds private _bounds;
    mapping(address collateral => mapping(address debt => bool)) private _pairAllowed;
    mapping(address => bool) private _isVault;
    address[] private _vaults;

    constructor(
        IPool pool,
        IRebalanceExecutor executor,
        IPriceGuard priceGuard,
        address forwarder,
        address governance,
        address guardian_,
        PolicyBounds memory bounds,
        IKeeperAuction auction
    ) Ownable(governance) ERC2771Context(forwarder) {
        if (
            address(pool) == address(0) ||
            address(executor) == address(0) ||
            address(priceGuard) == address(0) ||
            forwarder == address(0) ||
            guardian_ == address(0) ||
            address(auction) == address(0)
        ) revert FactoryZeroAddress();
        // Deployed just before the factory, at the address the factory was predicted to take: each must name the
        // other, so that the vaults' immutable auction is this factory's and no other.
        address auctionFactory = auction.FACTORY();
        if (auctionFactory != address(this)) revert FactoryAuctionMismatch(address(auction), auctionFactory);
        POOL = pool;
        EXECUTOR = executor;
        PRICE_GUARD = priceGuard;
        AUCTION = auction;
        VAULT_IMPLEMENTATION = address(new BallastVault(this, pool, executor, priceGuard, forwarder, address(AUCTION)));
        guardian = guardian_;
        emit GuardianSet(guardian_);
        _setPolicyBounds(bounds);
    }

    /// @inheritdoc IVaultFactory
    function createVault(
        address collateralAsset,
        address debtAsset,
        IBallastVault.Policy calldata policy,
        bytes32 salt
    ) external override returns (IBallastVault vault) {
        if (!_pairAllowed[collateralAsset][debtAsset]) revert FactoryPairNotAllowed(collateralAsset, debtAsset);
        address owner_ = _msgSender();
        bytes32 key = _key(owner_, salt);
        address predicted = Clones.predictDeterministicAddress(VAULT_IMPLEMENTATION, key);
        if (predicted.code.length != 0) revert FactoryVaultExists(predicted);
        vault = IBallastVault(Clones.cloneDeterministic(VAULT_IMPLEMENTATION, key));
        _isVault[address(vault)] = true;
        _vaults.push(address(vault));
        vault.initialize(owner_, collateralAsset, debtAsset, policy);
        emit VaultCreated(owner_, address(vault), collateralAsset, debtAsset, salt);
    }

    /// @inheritdoc IVaultFactory
    function predictVault(address owner_, bytes32 salt) external view override returns (address) {
        return Clones.predictDeterministicAddress(VAULT_IMPLEMENTATION, _key(owner_, salt));
    }

    /// @inheritdoc IVaultFactory
    function isVault(address vault) external view override returns (bool) {
        return _isVault[vault];
    }

    /// @inheritdoc IVaultFactory
    function vaultCount() external view override returns (uint256) {
        return _vaults.length;
    }

    /// @inheritdoc IVaultFactory
    function vaultAt(uint256 index) external view override returns (address) {
        return _vaults[index];
    }

    /// @inheritdoc IVaultFactory
    function setPair(address collateralAsset, address debtAsset, bool allowed) external override onlyOwner {
        if (allowed) _checkPair(collateralAsset, debtAsset);
        _pairAllowed[collateralAsset][debtAsset] = allowed;
        emit PairSet(collateralAsset, debtAsset, allowed);
    }

    /// @inheritdoc IVaultFactory
    function isPairAllowed(address collateralAsset, address debtAsset) external view override returns (bool) {
        return _pairAllowed[collateralAsset][debtAsset];
    }

    /// @inheritdoc IVaultFactory
    function setPolicyBounds(PolicyBounds calldata bounds) external override onlyOwner {
        _setPolicyBounds(bounds);
    }

    /// @inheritdoc IVaultFactory
    function policyBounds() external view override returns (PolicyBounds memory) {
        return _bounds;
    }

    /// @inheritdoc IVaultFactory
    function checkPolicy(IBallastVault.Policy calldata p) external view override {
        PolicyBounds memory b = _bounds;
        if (
            p.minHF < b.minHFFloor ||
            uint256(p.minHF) + b.minBandGap > p.targetHF ||
            uint256(p.targetHF) + b.minBandGap > p.maxHF ||
            p.maxHF > b.maxHFCeiling
        ) revert IBallastVault.VaultPolicyBandInvalid(p.minHF, p.targetHF, p.maxHF);
        if (p.maxSlippageBps > b.maxSlippageBpsCap) {
            revert IBallastVault.VaultPolicySlippageAboveCap(p.maxSlippageBps, b.maxSlippageBpsCap);
        }
        if (p.urgentSlippageBps < p.maxSlippageBps || p.urgentSlippageBps > b.maxSlippageBpsCap) {
            revert IBallastVault.VaultPolicyUrgentSlippageInvalid(
                p.urgentSlippageBps,
                p.maxSlippageBps,
                b.maxSlippageBpsCap
            );
        }
        if (p.maxKeeperRewardBps > b.maxKeeperRewardBpsCap) {
            revert IBallastVault.VaultPolicyRewardAboveCap(p.maxKeeperRewardBps, b.maxKeeperRewardBpsCap);
        }
        if (p.maxRewardBase == 0) revert IBallastVault.VaultPolicyRewardCapZero();
    }

    /// @inheritdoc IVaultFactory
    function boundedPolicy(
        IBallastVault.Policy calldata p
    ) external view override returns (IBallastVault.Policy memory bounded) {
        PolicyBounds memory b = _bounds;
        bounded = p;
        if (bounded.minHF < b.minHFFloor) bounded.minHF = b.minHFFloor;
        if (bounded.maxSlippageBps > b.maxSlippageBpsCap) bounded.maxSlippageBps = b.maxSlippageBpsCap;
        if (bounded.urgentSlippageBps > b.maxSlippageBpsCap) bounded.urgentSlippageBps = b.maxSlippageBpsCap;
        if (bounded.maxKeeperRewardBps > b.maxKeeperRewardBpsCap) bounded.maxKeeperRewardBps = b.maxKeeperRewardBpsCap;
    }

    /// @inheritdoc IVaultFactory
    function setLeveragePaused(bool paused) external override {
        if (_msgSender() != guardian) revert FactoryNotGuardian(_msgSender());
        leveragePaused = paused;
        emit LeveragePaused(paused);
    }

    /// @inheritdoc IVaultFactory
    function rebalanceLimits() external view override returns (bool, uint256) {
        return (leveragePaused, _bounds.hfTolerance);
    }

    /// @inheritdoc IVaultFactory
    function checkCollateralOf(address vault, address asset) external view override {
        DataTypes.ReserveData memory reserve = POOL.getReserveData(asset);
        // Each reserve holds two bits of a user's configuration: borrowing, then collateral.
        if (
            reserve.aTokenAddress == address(0) ||
            (POOL.getUserConfiguration(vault).data >> (uint256(reserve.id) * 2 + 1)) & 1 == 0
        ) revert FactoryNotCollateral(vault, asset);
    }

    /// @inheritdoc IVaultFactory
    function setGuardian(address guardian_) external override onlyOwner {
        if (guardian_ == address(0)) revert FactoryZeroAddress();
        guardian = guardian_;
        emit GuardianSet(guardian_);
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }

    function _setPolicyBounds(PolicyBounds memory b) private {
        if (
            b.minHFFloor < HARD_MIN_HF_FLOOR ||
            b.maxHFCeiling > HARD_MAX_HF_CEILING ||
            b.minBandGap < HARD_MIN_BAND_GAP ||
            uint256(b.minHFFloor) + 2 * uint256(b.minBandGap) > b.maxHFCeiling ||
            b.maxSlippageBpsCap > HARD_MAX_SLIPPAGE_BPS ||
            b.maxKeeperRewardBpsCap > HARD_MAX_KEEPER_REWARD_BPS ||
            b.hfTolerance < HARD_MIN_HF_TOLERANCE ||
            // A rebalance that lands within tolerance of its target must also land inside the band.
            b.hfTolerance >= b.minBandGap
        ) revert FactoryBoundsInvalid();
        _bounds = b;
        emit PolicyBoundsSet(b);
    }

    /// @dev A pair needs an active Aave collateral with a liquidation threshold, an active borrowable debt asset,
    /// and oracle coverage (heartbeats and a TWAP reference pool) in the price guard.
    function _checkPair(address collateralAsset, address debtAsset) private view {
        if (collateralAsset == address(0) || debtAsset == address(0)) revert FactoryZeroAddress();
        if (collateralAsset == debtAsset) revert FactoryPairInvalid(collateralAsset, debtAsset, "same asset");
        DataTypes.ReserveConfigurationMap memory c = POOL.getConfiguration(collateralAsset);
        (, uint256 liquidationThreshold, , , , ) = c.getParams();
        if (!c.getActive() || liquidationThreshold == 0) {
            revert FactoryPairInvalid(collateralAsset, debtAsset, "collateral not usable on Aave");
        }
        DataTypes.ReserveConfigurationMap memory d = POOL.getConfiguration(debtAsset);
        if (!d.getActive() || !d.getBorrowingEnabled()) {
            revert FactoryPairInvalid(collateralAsset, debtAsset, "debt asset not borrowable on Aave");
        }
        if (PRICE_GUARD.heartbeat(collateralAsset) == 0 || PRICE_GUARD.heartbeat(debtAsset) == 0) {
            revert FactoryPairInvalid(collateralAsset, debtAsset, "no oracle heartbeat");
        }
        // Reverts with the guard's error if either price cannot be read as every priced vault call reads it (BAL-04).
        PRICE_GUARD.freshPrices(collateralAsset, debtAsset);
        if (PRICE_GUARD.referencePool(collateralAsset, debtAsset) == address(0)) {
            revert FactoryPairInvalid(collateralAsset, debtAsset, "no TWAP reference pool");
        }
    }

    function _key(address owner_, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(owner_, salt));
    }
}
