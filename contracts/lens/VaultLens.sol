// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IBallastVault} from "../interfaces/IBallastVault.sol";
import {IKeeperAuction} from "../interfaces/IKeeperAuction.sol";
import {IRebalanceExecutor} from "../interfaces/IRebalanceExecutor.sol";
import {IVaultFactory} from "../interfaces/IVaultFactory.sol";
import {IVaultLens} from "../interfaces/IVaultLens.sol";
import {RebalanceMath} from "../libraries/RebalanceMath.sol";

/// @title VaultLens
/// @notice Reads the status of many Ballast vaults in one call, for keepers and front ends. Stateless.
/// @dev Memory never shrinks within a call and its cost grows with the square of its size, so a scan of a thousand
/// vaults keeps it to the result itself: each status is filled in the struct `new VaultStatus[](n)` allocated for it,
/// and the per-vault views are read with `_view`, which copies return data into that struct or scratch space rather
/// than leaving a copy in memory as a high-level call does.
contract VaultLens is IVaultLens {
    /// @dev The `minHFFloor` of the factory whose vault was read last: a scan of one factory's vaults reads it once.
    struct Floor {
        address factory;
        uint256 minHF;
    }

    /// @inheritdoc IVaultLens
    function statuses(address[] calldata vaults) external view override returns (VaultStatus[] memory result) {
        uint256 n = vaults.length;
        result = new VaultStatus[](n);
        Floor memory floor;
        for (uint256 i = 0; i < n; ++i) {
            _fill(result[i], vaults[i], floor);
        }
    }

    /// @inheritdoc IVaultLens
    function scan(
        IVaultFactory factory,
        uint256 start,
        uint256 count
    ) external view override returns (VaultStatus[] memory result) {
        uint256 total = factory.vaultCount();
        uint256 n = start < total ? _min(count, total - start) : 0;
        result = new VaultStatus[](n);
        Floor memory floor;
        for (uint256 i = 0; i < n; ++i) {
            address vault = address(uint160(_word(address(factory), IVaultFactory.vaultAt.selector, start + i)));
            _fill(result[i], vault, floor);
        }
    }

    /// @dev The static views are plain storage reads and revert only for an address that is not a vault. The
    /// position is read once and the band applied here; only a vault that needs a rebalance pays for
    /// `rebalanceNeeded()` (Aave's account data again, prices, sizing), in a caught call since it may revert. The
    /// band is the one the vault acts on: its stored minHF raised to its factory's `minHFFloor`, as
    /// `boundedPolicy` does (the other bounds do not move the band).
    function _fill(VaultStatus memory s, address vault, Floor memory floor) private view {
        s.vault = vault;
        s.owner = address(uint160(_word(vault, IBallastVault.owner.selector, 0)));
        s.collateralAsset = address(uint160(_word(vault, IBallastVault.collateralAsset.selector, 0)));
        s.debtAsset = address(uint160(_word(vault, IBallastVault.debtAsset.selector, 0)));
        IBallastVault.Policy memory p = s.policy;
        if (!_view(vault, IBallastVault.policy.selector, 0, _ptr(p), 0x100)) _bubble();
        _cleanPolicy(p);
        s.automationPaused = _word(vault, IBallastVault.automationPaused.selector, 0) != 0;
        address auction = address(uint160(_word(vault, IBallastVault.AUCTION.selector, 0)));
        (s.kickedAt, s.rewardBps) = _auction(auction, vault);
        IBallastVault.Position memory pos = s.position;
        if (!_view(vault, IBallastVault.position.selector, 0, _ptr(pos), 0x80)) {
            // A failed call copies its revert data where the return data would have gone.
            (pos.collateralBase, pos.debtBase, pos.liquidationThresholdBps, pos.healthFactor) = (0, 0, 0, 0);
            s.revertData = _returnData();
            return;
        }
        if (s.automationPaused || _band(pos, p, _floorOf(auction, floor)) == IRebalanceExecutor.Direction.None) {
            s.ok = true;
        } else {
            _size(s);
        }
    }

    /// @dev The band of `p` with its minHF raised to `minHFFloor`; `p` is left as stored.
    function _band(
        IBallastVault.Position memory pos,
        IBallastVault.Policy memory p,
        uint256 minHFFloor
    ) private pure returns (IRebalanceExecutor.Direction direction) {
        uint64 stored = p.minHF;
        if (stored < minHFFloor) p.minHF = uint64(minHFFloor);
        direction = RebalanceMath.band(pos, p);
        p.minHF = stored;
    }

    /// @dev The `minHFFloor` of the factory behind `auction` (the first word of `policyBounds()`), cached in `floor`.
    function _floorOf(address auction, Floor memory floor) private view returns (uint256) {
        address factory = address(uint160(_word(auction, IKeeperAuction.FACTORY.selector, 0)));
        if (factory != floor.factory) {
            floor.factory = factory;
            floor.minHF = uint64(_word(factory, IVaultFactory.policyBounds.selector, 0));
        }
        return floor.minHF;
    }

    /// @dev Fills the sizing of a vault that needs a rebalance from its own view, or that view's revert data.
    function _size(VaultStatus memory s) private view {
        try IBallastVault(s.vault).rebalanceNeeded() returns (
            bool needed,
            IRebalanceExecutor.Direction direction,
            uint256 amountIn,
            uint256 urgency
        ) {
            (s.needed, s.direction, s.amountIn, s.urgency, s.ok) = (needed, direction, amountIn, urgency, true);
        } catch (bytes memory reason) {
            s.revertData = reason;
        }
    }

    /// @dev The auction the vault itself trusts. `currentRewardBps` reads the position again, so it is called only
    /// for a kicked vault; it reverts only where `position()` does, which `ok` reports.
    function _auction(address auction, address vault) private view returns (uint64 kickedAt, uint16 rewardBps) {
        kickedAt = uint64(_word(auction, IKeeperAuction.auctionOf.selector, uint256(uint160(vault))));
        if (kickedAt == 0) return (0, 0);
        try IKeeperAuction(auction).currentRewardBps(vault) returns (uint16 bps) {
            rewardBps = bps;
        } catch {
            rewardBps = 0;
        }
    }

    /// @dev The first word `target.selector(arg)` returns; reverts as the call did.
    function _word(address target, bytes4 selector, uint256 arg) private view returns (uint256 value) {
        if (!_view(target, selector, arg, 0, 0x20)) _bubble();
        assembly ("memory-safe") {
            value := mload(0)
        }
    }

    /// @dev Static call of `target.selector(arg)` (`arg` is ignored by a view without one), copying the first `size`
    /// bytes it returns to `out`: scratch space or memory the caller allocated. Fails, as the ABI decoder would,
    /// when fewer than `size` bytes come back (an account without code returns none).
    function _view(
        address target,
        bytes4 selector,
        uint256 arg,
        uint256 out,
        uint256 size
    ) private view returns (bool ok) {
        assembly ("memory-safe") {
            mstore(0x00, selector)
            mstore(0x04, arg)
            ok := staticcall(gas(), target, 0x00, 0x24, out, size)
            // Separate statement: Yul evaluates arguments right to left, before the call.
            if lt(returndatasize(), size) {
                ok := 0
            }
        }
    }

    /// @dev Reverts with the return data of the last call, as a high-level call would.
    function _bubble() private pure {
        assembly ("memory-safe") {
            let p := mload(0x40)
            returndatacopy(p, 0, returndatasize())
            revert(p, returndatasize())
        }
    }

    function _returnData() private pure returns (bytes memory data) {
        assembly ("memory-safe") {
            data := mload(0x40)
            mstore(data, returndatasize())
            returndatacopy(add(data, 0x20), 0, returndatasize())
            mstore(0x40, add(add(data, 0x20), and(add(returndatasize(), 0x1f), not(0x1f))))
        }
    }

    /// @dev Masks each field to its type (three `uint64`, two `uint16`, two `uint64`, one `uint16`), as the ABI
    /// decoder would have checked it.
    function _cleanPolicy(IBallastVault.Policy memory p) private pure {
        assembly ("memory-safe") {
            mstore(p, and(mload(p), 0xffffffffffffffff))
            mstore(add(p, 0x20), and(mload(add(p, 0x20)), 0xffffffffffffffff))
            mstore(add(p, 0x40), and(mload(add(p, 0x40)), 0xffffffffffffffff))
            mstore(add(p, 0x60), and(mload(add(p, 0x60)), 0xffff))
            mstore(add(p, 0x80), and(mload(add(p, 0x80)), 0xffff))
            mstore(add(p, 0xa0), and(mload(add(p, 0xa0)), 0xffffffffffffffff))
            mstore(add(p, 0xc0), and(mload(add(p, 0xc0)), 0xffffffffffffffff))
            mstore(add(p, 0xe0), and(mload(add(p, 0xe0)), 0xffff))
        }
    }

    function _ptr(IBallastVault.Policy memory p) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := p
        }
    }

    function _ptr(IBallastVault.Position memory pos) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := pos
        }
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
