// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

/// @title IRebalanceExecutor
/// @notice The stateless engine behind every rebalance: an Aave V3 flash loan, a Uniswap V3 exactInput swap, then
/// settlement on the calling vault's position. It acts only on its caller's own position, holds no funds and no
/// allowances between transactions, and accepts flash-loan callbacks only from the Aave pool for loans it started.
/// It emits one event of its own, `SteppedWithoutFlashLoan`, when the debt reserve cannot fund the loan; otherwise the
/// vault's `Rebalanced` event carries the whole breakdown, and Aave's `FlashLoan` the loan.
interface IRebalanceExecutor {
    /// @notice Which way a rebalance moves the position.
    enum Direction {
        None,
        Deleverage,
        Leverage,
        Close,
        Switch
    }

    /// @notice A fully sized rebalance, built and checked by the vault.
    /// @param direction Deleverage (sell collateral, repay debt), Leverage (borrow, buy collateral), Close, or Switch
    /// (flash-borrow a new collateral asset and supply it, then sell all of the old collateral for it).
    /// @param collateralAsset The vault's collateral asset (on a Switch, the old one, which is sold).
    /// @param debtAsset The vault's debt asset (on a Switch, the new collateral: the asset flash-borrowed and bought).
    /// @param amountIn Tokens the swap sells: collateral for Deleverage, Close and Switch, debt asset for Leverage.
    /// @param minAmountOut The least the swap may return, derived by the vault from oracle prices.
    /// @param flashAmount The flash loan of `debtAsset`: repaid on the vault first (Deleverage, Close), borrowed on the
    /// vault's credit (Leverage, where it equals `amountIn + keep`), or supplied to the vault (Switch).
    /// @param keep Debt asset handed to the vault rather than put into the position: taken from the swap output before
    /// the surplus repays debt (Deleverage), or borrowed on top of `amountIn` (Leverage). It funds the keeper reward;
    /// 0 on Close and Switch.
    /// @param path Uniswap V3 exactInput path, already validated against the two assets.
    struct Plan {
        Direction direction;
        address collateralAsset;
        address debtAsset;
        uint256 amountIn;
        uint256 minAmountOut;
        uint256 flashAmount;
        uint256 keep;
        bytes path;
    }

    /// @notice What the executor did.
    /// @param amountOut Tokens the swap returned.
    /// @param flashPremium Premium paid to Aave.
    /// @param debtRepaid Vault debt repaid (Deleverage, Close).
    /// @param leftover Debt asset sent to the vault: `keep`, plus any surplus its debt could not absorb.
    struct Execution {
        uint256 amountOut;
        uint256 flashPremium;
        uint256 debtRepaid;
        uint256 leftover;
    }

    /// @notice A Deleverage or Close ran in steps without a flash loan: the loan reverted and the debt reserve's aToken
    /// held less of the debt asset than the loan (the reserve fully borrowed). Each step released collateral the
    /// vault's Aave position could spare, sold it and repaid debt with the output.
    /// @param vault The vault whose plan ran.
    /// @param steps How many release-sell-repay steps it took.
    event SteppedWithoutFlashLoan(address indexed vault, uint256 steps);

    /// @notice `executeOperation` was called by someone other than the Aave pool.
    error ExecutorCallerNotPool(address caller);
    /// @notice A flash loan was started by someone other than this executor.
    error ExecutorInitiatorNotSelf(address initiator);
    /// @notice An execution was started inside another one.
    error ExecutorReentered();
    /// @notice The plan's direction is `None`, or its amount is zero.
    error ExecutorEmptyPlan();
    /// @notice The flash loan is larger than the caller's debt, so part of it could not be repaid on its behalf.
    error ExecutorFlashExceedsDebt(uint256 flashAmount, uint256 repaid);
    /// @notice The swap returned too little to repay the flash loan and its premium.
    error ExecutorFlashUnpaid(uint256 amountOut, uint256 owed);
    /// @notice A Switch's loan could not be funded: the new collateral's reserve holds `available`, less than `amount`.
    /// A switch has no stepped fallback; try a smaller vault or later.
    error ExecutorFlashUnavailable(address asset, uint256 available, uint256 amount);
    /// @notice Without a flash loan, the vault could release no collateral: its Aave health factor is at or below the
    /// executor's per-step floor (1% over Aave's liquidation threshold of 1.0), so every withdrawal would fail.
    /// @param healthFactor The vault's Aave health factor when the step was tried.
    error ExecutorNoWithdrawHeadroom(uint256 healthFactor);
    /// @notice Without a flash loan, the plan's sale was not done within the executor's step cap.
    /// @param sold Collateral sold in the steps taken.
    /// @param amountIn Collateral the plan sells.
    error ExecutorStepsExhausted(uint256 sold, uint256 amountIn);

    /// @notice Carries out `plan` on the caller's own Aave position and returns what happened.
    /// @dev For Leverage the caller must have delegated exactly `plan.flashAmount` of variable-debt credit to the
    /// executor; the loan consumes it. For Deleverage and Close the caller must answer `releaseCollateral`, as many
    /// times as there are steps. If a Deleverage's or Close's flash loan reverts while the debt reserve holds less than
    /// `plan.flashAmount`, the same plan runs in steps without a loan (`SteppedWithoutFlashLoan`, no premium);
    /// any other revert of the loan is re-thrown unchanged.
    function execute(Plan calldata plan) external returns (Execution memory);
}
