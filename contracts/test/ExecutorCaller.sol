// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IPool} from "@aave/core-v3/contracts/interfaces/IPool.sol";
import {ICreditDelegationToken} from "@aave/core-v3/contracts/interfaces/ICreditDelegationToken.sol";

import {IRebalanceExecutor} from "../interfaces/IRebalanceExecutor.sol";

/// @title ExecutorCaller
/// @notice A test-only stand-in for a vault: it holds its own Aave position (one collateral supplied, one debt asset
/// borrowed at the variable rate), hands the executor any plan, and answers `releaseCollateral` by withdrawing the
/// collateral to the executor. Told to, it re-enters `execute` from inside that callback instead.
contract ExecutorCaller {
    uint256 private constant _VARIABLE_RATE = 2;

    /// @notice The executor under test.
    IRebalanceExecutor public immutable EXECUTOR;
    /// @notice The Aave pool holding the position.
    IPool public immutable POOL;
    /// @notice The asset supplied.
    IERC20 public immutable COLLATERAL;
    /// @notice The asset borrowed.
    IERC20 public immutable DEBT;

    /// @notice Whether `releaseCollateral` re-enters the executor instead of releasing.
    bool public reenter;

    /// @dev The plan of the running `execute`, replayed on re-entry.
    IRebalanceExecutor.Plan private _plan;

    /// @notice Emitted with what the executor returned.
    event Executed(IRebalanceExecutor.Execution execution);

    /// @notice `releaseCollateral` was called by someone other than the executor.
    error ExecutorCallerNotExecutor(address caller);

    /// @param executor The executor under test.
    /// @param pool The Aave pool.
    /// @param collateral The asset to supply.
    /// @param debt The asset to borrow.
    constructor(IRebalanceExecutor executor, IPool pool, IERC20 collateral, IERC20 debt) {
        EXECUTOR = executor;
        POOL = pool;
        COLLATERAL = collateral;
        DEBT = debt;
    }

    /// @notice Pulls `collateral` from the caller, supplies it and borrows `borrow` of the debt asset to this contract.
    /// @param collateral Collateral amount; the caller approved it.
    /// @param borrow Debt asset amount to borrow at the variable rate.
    function setUp(uint256 collateral, uint256 borrow) external {
        COLLATERAL.transferFrom(msg.sender, address(this), collateral);
        COLLATERAL.approve(address(POOL), collateral);
        POOL.supply(address(COLLATERAL), collateral, address(this), 0);
        POOL.borrow(address(DEBT), borrow, _VARIABLE_RATE, 0, address(this));
    }

    /// @notice Makes `releaseCollateral` re-enter the executor (true) or release collateral (false).
    /// @param reenter_ The mode.
    function setReenter(bool reenter_) external {
        reenter = reenter_;
    }

    /// @notice Hands `plan` to the executor and emits what it returned.
    /// @param plan Any plan; the executor's own checks are under test.
    /// @return execution What the executor returned.
    function execute(IRebalanceExecutor.Plan calldata plan) external returns (IRebalanceExecutor.Execution memory) {
        _plan = plan;
        IRebalanceExecutor.Execution memory execution = EXECUTOR.execute(plan);
        emit Executed(execution);
        return execution;
    }

    /// @notice Runs two plans through the executor in one transaction, delegating credit for a Leverage plan as a
    /// vault does, and emits what each returned: a later execution must not report an earlier one's figures.
    /// @param first The first plan.
    /// @param second The second plan.
    function executeBoth(IRebalanceExecutor.Plan calldata first, IRebalanceExecutor.Plan calldata second) external {
        _executeOne(first);
        _executeOne(second);
    }

    /// @notice The executor's callback: withdraws `amount` of collateral to it, or re-enters `execute`.
    /// @param amount Collateral to release.
    function releaseCollateral(uint256 amount) external {
        if (msg.sender != address(EXECUTOR)) revert ExecutorCallerNotExecutor(msg.sender);
        if (reenter) EXECUTOR.execute(_plan);
        else POOL.withdraw(address(COLLATERAL), amount, msg.sender);
    }

    function _executeOne(IRebalanceExecutor.Plan calldata plan) private {
        if (plan.direction == IRebalanceExecutor.Direction.Leverage) {
            address debtToken = POOL.getReserveData(address(DEBT)).variableDebtTokenAddress;
            ICreditDelegationToken(debtToken).approveDelegation(address(EXECUTOR), plan.flashAmount);
        }
        emit Executed(EXECUTOR.execute(plan));
    }
}
