// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

/// @title IRebalanceExecutor
/// @notice The stateless engine behind every rebalance: an Aave V3 flash loan, a Uniswap V3 exactInput swap, then
/// settlement on the calling vault's position. It acts only on its caller's own position, holds no funds and no
/// allowances between transactions, and accepts flash-loan callbacks only from the Aave pool for loans it started.
/// It emits nothing: the vault's `Rebalanced` event carries the whole breakdown, and Aave's `FlashLoan` the loan.
interface IRebalanceExecutor {
    /// @notice Which way a rebalance moves the position.
    enum Direction {
        None,
        Deleverage,
        Leverage,
        Close
    }

    /// @notice A fully sized rebalance, built and checked by the vault.
    /// @param direction Deleverage (sell collateral, repay debt), Leverage (borrow, buy collateral) or Close.
    /// @param collateralAsset The vault's collateral asset.
    /// @param debtAsset The vault's debt asset.
    /// @param amountIn Tokens the swap sells: collateral for Deleverage and Close, debt asset for Leverage.
    /// @param minAmountOut The least the swap may return, derived by the vault from oracle prices.
    /// @param flashAmount Debt asset to flash-borrow: repaid on the vault first (Deleverage, Close), or borrowed on the
    /// vault's credit (Leverage, where it equals `amountIn + keep`).
    /// @param keep Debt asset handed to the vault rather than put into the position: taken from the swap output before
    /// the surplus repays debt (Deleverage), or borrowed on top of `amountIn` (Leverage). It funds the keeper reward.
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

    /// @notice Carries out `plan` on the caller's own Aave position and returns what happened.
    /// @dev For Leverage the caller must have delegated exactly `plan.flashAmount` of variable-debt credit to the
    /// executor; the loan consumes it. For Deleverage and Close the caller must answer `releaseCollateral`.
    function execute(Plan calldata plan) external returns (Execution memory);
}
