// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";

import {IBallastVault} from "./IBallastVault.sol";

/// @title IBallastPool
/// @notice An ERC-4626 vault over one leveraged Aave V3 position held in a `BallastVault` clone that the pool owns:
/// holders deposit the collateral asset and share its leverage, which keepers hold in band exactly as for any other
/// vault (the auction, the lens and the executor do not know a pool from an owner).
/// - `totalAssets` is the position's equity at the oracle price, in the collateral asset: collateral less debt.
/// - Deposits join at that value, rounded in the pool's favour, and are supplied as collateral at once; they are
///   levered by the next keeper rebalance, when the HF has risen above the band. A position with no debt yet (the
///   first deposits) is levered by anyone's call of `lever`, since keepers leave a vault without debt alone.
/// - A redemption unwinds the holder's share of the position atomically: a flash loan repays the share of the debt,
///   the share of the collateral is withdrawn, and just enough of it is sold, within the oracle-derived bound, to repay
///   the loan. The leaving holder bears that sale and the loan's premium; the position left behind keeps its HF. When
///   Aave cannot lend the debt share, the exit runs in steps within the HF's headroom above `minHF` instead.
/// - `previewRedeem` and `previewWithdraw` price the exit at its worst accepted outcome (the slippage bound and the
///   premium), so the action never gives less than the preview.
interface IBallastPool is IERC4626 {
    /// @notice A zero address where one is required.
    error PoolZeroAddress();
    /// @notice The caller is not the guardian.
    error PoolNotGuardian(address caller);
    /// @notice A redemption or withdrawal of nothing.
    error PoolZeroShares();
    /// @notice The flash-loan callback was not called by the Aave pool.
    error PoolCallerNotAavePool(address caller);
    /// @notice The flash loan was not started by this pool's own exit.
    error PoolInitiatorNotSelf(address initiator);
    /// @notice The position has no equity left to price an exit against.
    error PoolNoEquity();
    /// @notice An exit without a flash loan could not finish: a step found no HF headroom, or `_MAX_STEPS` were not
    /// enough. Redeem less, or wait for flash liquidity.
    error PoolExitStuck(uint256 debtLeft);
    /// @notice `lever` needs collateral and no debt: keepers keep an open position in band.
    error PoolNotOpenable(uint256 collateral, uint256 debt);

    /// @notice Emitted when a holder's share of the position was unwound.
    /// @param owner The holder whose shares were burned.
    /// @param shares The shares burned.
    /// @param collateralReleased The holder's share of the collateral, withdrawn from the position.
    /// @param debtRepaid The holder's share of the debt, repaid with the flash loan.
    /// @param collateralSold The part of `collateralReleased` sold to repay the loan and its premium.
    event Unwound(
        address indexed owner,
        uint256 shares,
        uint256 collateralReleased,
        uint256 debtRepaid,
        uint256 collateralSold
    );
    /// @notice Emitted when governance set the path exits sell collateral along.
    event ExitPathSet(bytes path);
    /// @notice Emitted when governance set the supply cap (in assets; 0 means no cap).
    event SupplyCapSet(uint256 cap);
    /// @notice Emitted when the guardian paused or resumed deposits. Exits are never paused.
    event DepositsPaused(bool paused);
    /// @notice Emitted when governance replaced the guardian.
    event GuardianSet(address indexed guardian);

    /// @notice The pool's position: a `BallastVault` clone created by the factory with this pool as its owner.
    function VAULT() external view returns (IBallastVault);

    /// @notice The asset the position borrows.
    function DEBT_ASSET() external view returns (address);

    /// @notice The Uniswap V3 `exactInput` path, collateral to debt asset, along which exits (reversed, as
    /// `exactOutput`) buy the debt asset they repay.
    function exitPath() external view returns (bytes memory);

    /// @notice The most `totalAssets` deposits may reach; 0 means no cap.
    function supplyCap() external view returns (uint256);

    /// @notice Whether the guardian has paused deposits.
    function depositsPaused() external view returns (bool);

    /// @notice Who may pause deposits.
    function guardian() external view returns (address);

    /// @notice The position's collateral and debt, in their own units.
    /// @return collateral The collateral asset supplied.
    /// @return debt The debt asset owed.
    function holdings() external view returns (uint256 collateral, uint256 debt);

    /// @notice Sets the exit path after checking its shape (`SwapPath`) and that every hop is an allowed route of the
    /// price guard. Only governance.
    /// @param path The `exactInput` path from the collateral asset to the debt asset.
    function setExitPath(bytes calldata path) external;

    /// @notice Sets the supply cap, in assets; 0 removes it. Only governance.
    function setSupplyCap(uint256 cap) external;

    /// @notice Sets the guardian. Only governance.
    function setGuardian(address guardian) external;

    /// @notice Replaces the position's policy, within the factory's bounds. Only governance.
    function setPolicy(IBallastVault.Policy calldata policy) external;

    /// @notice Opens the position: withdraws all of its collateral and opens it again at the policy's target HF, buying
    /// collateral along the reversed exit path (the vault's own `open`, with its oracle bound and outcome checks).
    /// Anyone may call it; it reverts with `PoolNotOpenable` unless the position has collateral and no debt.
    function lever() external;

    /// @notice Pauses or resumes deposits and mints. Only the guardian; withdrawals and redemptions stay open.
    function pauseDeposits(bool paused) external;
}
