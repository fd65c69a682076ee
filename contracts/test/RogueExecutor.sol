// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IFlashLoanReceiver} from "@aave/core-v3/contracts/flashloan/interfaces/IFlashLoanReceiver.sol";
import {IPool} from "@aave/core-v3/contracts/interfaces/IPool.sol";
import {IPoolAddressesProvider} from "@aave/core-v3/contracts/interfaces/IPoolAddressesProvider.sol";
import {ISwapRouter} from "@uniswap/v3-periphery/contracts/interfaces/ISwapRouter.sol";

import {IBallastVault} from "../interfaces/IBallastVault.sol";
import {IRebalanceExecutor} from "../interfaces/IRebalanceExecutor.sol";

/// @title RogueExecutor
/// @notice A test-only, deliberately dishonest executor for the vault's outcome checks: a vault wired to it must
/// refuse every outcome it produces. Its mode picks the misbehaviour:
/// - `Skim` (Leverage only): flash-borrows the debt asset in mode 2 on the vault's delegated credit, buys collateral
///   along the plan's path with the plan's minimum output, then supplies only `1 - bps / 10000` of it to the vault and
///   keeps the rest, as a thief or a bug would. At 0 bps it behaves honestly.
/// - `ShortRepay` (Close only): flash-borrows `plan.flashAmount` (mode 0), repays only `bps / 10000` of it on the
///   vault's debt, takes `plan.amountIn` collateral through `releaseCollateral`, sells it, repays the loan and its
///   premium, and sends the rest of the debt asset to the vault: Aave is paid, the vault keeps debt.
/// - `Reenter` (any direction): calls back into the vault's permissionless `rebalance(plan.path, 1)` from inside
///   `execute`; the vault's reentrancy guard must stop it.
contract RogueExecutor is IRebalanceExecutor, IFlashLoanReceiver {
    using SafeERC20 for IERC20;

    /// @notice The misbehaviour `execute` carries out.
    enum Mode {
        Skim,
        ShortRepay,
        Reenter
    }

    uint256 private constant _BPS = 10_000;
    uint256 private constant _NO_DEBT = 0;
    uint256 private constant _VARIABLE_RATE = 2;

    // The interface fixes these getters' names.
    /// @inheritdoc IFlashLoanReceiver
    IPoolAddressesProvider public immutable override ADDRESSES_PROVIDER;
    /// @inheritdoc IFlashLoanReceiver
    IPool public immutable override POOL;
    /// @notice The Uniswap V3 SwapRouter the swaps go through.
    ISwapRouter public immutable ROUTER;

    /// @notice The current misbehaviour.
    Mode public mode;
    /// @notice `Skim`: the share of the bought collateral kept back; `ShortRepay`: the share of the loan repaid on the
    /// vault's debt. In bps.
    uint256 public bps;

    address private transient _vault;
    uint256 private transient _amountOut;
    uint256 private transient _premium;
    uint256 private transient _debtRepaid;
    uint256 private transient _leftover;

    /// @notice The current mode does not handle this direction.
    error RogueExecutorUnsupported(Mode mode, Direction direction);
    /// @notice `bps` above 10000.
    error RogueExecutorBpsTooHigh(uint256 bps);
    /// @notice `executeOperation` was not called by the Aave pool for a loan this contract started.
    error RogueExecutorBadCallback(address caller, address initiator);
    /// @notice `execute` was entered again while running: the vault let a reentrant call through.
    error RogueExecutorNested();
    /// @notice The debt asset held after the swap cannot repay the flash loan and its premium.
    error RogueExecutorFlashUnpaid(uint256 balance, uint256 owed);

    /// @param provider The Aave market's addresses provider; the pool is read from it once.
    /// @param router The Uniswap V3 SwapRouter.
    constructor(IPoolAddressesProvider provider, ISwapRouter router) {
        ADDRESSES_PROVIDER = provider;
        POOL = IPool(provider.getPool());
        ROUTER = router;
    }

    /// @notice Sets the misbehaviour.
    /// @param mode_ The mode.
    /// @param bps_ The mode's share in bps (ignored by `Reenter`); at most 10000.
    function setMode(Mode mode_, uint256 bps_) external {
        if (bps_ > _BPS) revert RogueExecutorBpsTooHigh(bps_);
        mode = mode_;
        bps = bps_;
    }

    /// @inheritdoc IRebalanceExecutor
    function execute(Plan calldata plan) external override returns (Execution memory execution) {
        if (_vault != address(0)) revert RogueExecutorNested();
        _vault = msg.sender;
        Mode mode_ = mode;
        if (mode_ == Mode.Reenter) {
            IBallastVault(msg.sender).rebalance(plan.path, 1);
        } else if (mode_ == Mode.Skim && plan.direction == Direction.Leverage) {
            _flashLoan(plan, _VARIABLE_RATE, msg.sender);
        } else if (mode_ == Mode.ShortRepay && plan.direction == Direction.Close) {
            _flashLoan(plan, _NO_DEBT, address(this));
        } else {
            revert RogueExecutorUnsupported(mode_, plan.direction);
        }
        execution = Execution({
            amountOut: _amountOut,
            flashPremium: _premium,
            debtRepaid: _debtRepaid,
            leftover: _leftover
        });
        _vault = address(0);
    }

    /// @inheritdoc IFlashLoanReceiver
    function executeOperation(
        address[] calldata,
        uint256[] calldata amounts,
        uint256[] calldata premiums,
        address initiator,
        bytes calldata params
    ) external override returns (bool) {
        if (msg.sender != address(POOL) || initiator != address(this)) {
            revert RogueExecutorBadCallback(msg.sender, initiator);
        }
        Plan memory plan = abi.decode(params, (Plan));
        if (plan.direction == Direction.Leverage) {
            _skim(plan, amounts[0]);
        } else {
            _shortRepay(plan, amounts[0], premiums[0]);
        }
        return true;
    }

    function _flashLoan(Plan calldata plan, uint256 interestRateMode, address onBehalfOf) private {
        address[] memory assets = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        uint256[] memory modes = new uint256[](1);
        assets[0] = plan.debtAsset;
        amounts[0] = plan.flashAmount;
        modes[0] = interestRateMode;
        POOL.flashLoan(address(this), assets, amounts, modes, onBehalfOf, abi.encode(plan), 0);
    }

    /// @dev Leverage: the loan is already the vault's debt; buy collateral and supply only part of it to the vault.
    function _skim(Plan memory plan, uint256 amount) private {
        uint256 amountOut = _swap(plan.debtAsset, plan.path, amount, plan.minAmountOut);
        uint256 supplied = (amountOut * (_BPS - bps)) / _BPS;
        IERC20(plan.collateralAsset).forceApprove(address(POOL), supplied);
        POOL.supply(plan.collateralAsset, supplied, _vault, 0);
        _amountOut = amountOut;
    }

    /// @dev Close: repay only part of the vault's debt, take and sell the planned collateral, repay the loan in full
    /// and hand every remaining debt-asset token to the vault.
    function _shortRepay(Plan memory plan, uint256 amount, uint256 premium) private {
        address vault = _vault;
        IERC20 debt = IERC20(plan.debtAsset);
        uint256 repay = (amount * bps) / _BPS;
        if (repay != 0) {
            debt.forceApprove(address(POOL), repay);
            _debtRepaid = POOL.repay(plan.debtAsset, repay, _VARIABLE_RATE, vault);
        }
        IBallastVault(vault).releaseCollateral(plan.amountIn);
        _amountOut = _swap(plan.collateralAsset, plan.path, plan.amountIn, plan.minAmountOut);
        _premium = premium;
        uint256 owed = amount + premium;
        uint256 balance = debt.balanceOf(address(this));
        if (balance < owed) revert RogueExecutorFlashUnpaid(balance, owed);
        _leftover = balance - owed;
        if (_leftover != 0) debt.safeTransfer(vault, _leftover);
        debt.forceApprove(address(POOL), owed);
    }

    function _swap(
        address tokenIn,
        bytes memory path,
        uint256 amountIn,
        uint256 minAmountOut
    ) private returns (uint256) {
        IERC20(tokenIn).forceApprove(address(ROUTER), amountIn);
        return
            ROUTER.exactInput(
                ISwapRouter.ExactInputParams({
                    path: path,
                    recipient: address(this),
                    deadline: block.timestamp,
                    amountIn: amountIn,
                    amountOutMinimum: minAmountOut
                })
            );
    }
}
