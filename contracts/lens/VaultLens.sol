// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IBallastVault} from "../interfaces/IBallastVault.sol";
import {IRebalanceExecutor} from "../interfaces/IRebalanceExecutor.sol";
import {IVaultFactory} from "../interfaces/IVaultFactory.sol";
import {IVaultLens} from "../interfaces/IVaultLens.sol";

/// @title VaultLens
/// @notice Reads the status of many Ballast vaults in one call, for keepers and front ends. Stateless.
contract VaultLens is IVaultLens {
    /// @inheritdoc IVaultLens
    function statuses(address[] calldata vaults) external view override returns (VaultStatus[] memory result) {
        uint256 n = vaults.length;
        result = new VaultStatus[](n);
        for (uint256 i = 0; i < n; ++i) {
            result[i] = _status(IBallastVault(vaults[i]));
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
        for (uint256 i = 0; i < n; ++i) {
            result[i] = _status(IBallastVault(factory.vaultAt(start + i)));
        }
    }

    /// @dev One call per view. `position()` and `rebalanceNeeded()` depend on the market (Aave, the price guard) and
    /// may revert; they are caught so that one vault cannot fail the whole read. The rest are plain storage reads.
    function _status(IBallastVault vault) private view returns (VaultStatus memory s) {
        s.vault = address(vault);
        s.owner = vault.owner();
        s.collateralAsset = vault.collateralAsset();
        s.debtAsset = vault.debtAsset();
        s.policy = vault.policy();
        s.automationPaused = vault.automationPaused();
        try vault.position() returns (IBallastVault.Position memory pos) {
            s.position = pos;
        } catch (bytes memory reason) {
            s.revertData = reason;
            return s;
        }
        try vault.rebalanceNeeded() returns (
            bool needed,
            IRebalanceExecutor.Direction direction,
            uint256 amountIn,
            uint256 urgency
        ) {
            (s.needed, s.direction, s.amountIn, s.urgency) = (needed, direction, amountIn, urgency);
            s.ok = true;
        } catch (bytes memory reason) {
            s.revertData = reason;
        }
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
