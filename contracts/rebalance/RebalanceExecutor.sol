// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IPool} from "@aave/core-v3/contracts/interfaces/IPool.sol";
import {IPoolAddressesProvider} from "@aave/core-v3/contracts/interfaces/IPoolAddressesProvider.sol";
import {IPriceOracleGetter} from "@aave/core-v3/contracts/interfaces/IPriceOracleGetter.sol";
import {IFlashLoanReceiver} from "@aave/core-v3/contracts/flashloan/interfaces/IFlashLoanReceiver.sol";
import {IFlashLoanSimpleReceiver} from "@aave/core-v3/contracts/flashloan/interfaces/IFlashLoanSimpleReceiver.sol";
import {ISwapRouter} from "@uniswap/v3-periphery/contracts/interfaces/ISwapRouter.sol";

import {IBallastVault} from "../interfaces/IBallastVault.sol";
import {IRebalanceExecutor} from "../interfaces/IRebalanceExecutor.sol";

/// @title RebalanceExecutor
/// @notice See {IRebalanceExecutor}. Deleverage and Close use `flashLoanSimple`; Leverage uses `flashLoan` with
/// interest-rate mode 2, which opens the debt on the vault through its one-shot credit delegation and charges no
/// premium. When the debt reserve is fully borrowed and cannot fund a Deleverage's or Close's loan, the same plan runs
/// in bounded steps without one (see `_stepWithoutFlashLoan`).
contract RebalanceExecutor is IRebalanceExecutor, IFlashLoanSimpleReceiver, IFlashLoanReceiver {
    using SafeERC20 for IERC20;

    uint256 private constant _VARIABLE_RATE = 2;
    /// @dev Without a flash loan, each step releases no more collateral than keeps the vault's Aave HF at or above
    /// 1.01: Aave refuses a withdrawal below 1.0, and the margin absorbs its base-unit rounding.
    uint256 private constant _STEP_HF_FLOOR_BPS = 10_100;
    /// @dev Without a flash loan, at most this many release-sell-repay steps. Each step's headroom grows by about
    /// 1.01 / liquidation threshold (22% for WETH's 0.825), so 16 steps close a WETH vault from an HF of about 1.02.
    uint256 private constant _MAX_STEPS = 16;

    /// @inheritdoc IFlashLoanSimpleReceiver
    IPoolAddressesProvider public immutable override(IFlashLoanReceiver, IFlashLoanSimpleReceiver) ADDRESSES_PROVIDER;
    /// @inheritdoc IFlashLoanSimpleReceiver
    IPool public immutable override(IFlashLoanReceiver, IFlashLoanSimpleReceiver) POOL;
    /// @notice The Uniswap V3 SwapRouter, fixed at construction.
    ISwapRouter public immutable ROUTER;

    // One execution at a time, and the callbacks act only for the vault that started it.
    address private transient _activeVault;
    uint256 private transient _amountOut;
    uint256 private transient _premium;
    uint256 private transient _debtRepaid;
    uint256 private transient _leftover;

    constructor(IPoolAddressesProvider provider, ISwapRouter router) {
        ADDRESSES_PROVIDER = provider;
        POOL = IPool(provider.getPool());
        ROUTER = router;
    }

    /// @inheritdoc IRebalanceExecutor
    function execute(Plan calldata plan) external override returns (Execution memory execution) {
        if (_activeVault != address(0)) revert ExecutorReentered();
        if (plan.direction == Direction.None || plan.amountIn == 0 || plan.flashAmount == 0) revert ExecutorEmptyPlan();
        _activeVault = msg.sender;
        bytes memory params = abi.encode(plan);
        if (plan.direction == Direction.Leverage) {
            address[] memory assets = new address[](1);
            uint256[] memory amounts = new uint256[](1);
            uint256[] memory modes = new uint256[](1);
            assets[0] = plan.debtAsset;
            amounts[0] = plan.flashAmount;
            modes[0] = _VARIABLE_RATE;
            POOL.flashLoan(address(this), assets, amounts, modes, msg.sender, params, 0);
        } else {
            // The loan's callback runs the plan; only its failure needs handling here.
            // solhint-disable-next-line no-empty-blocks
            try POOL.flashLoanSimple(address(this), plan.debtAsset, plan.flashAmount, params, 0) {} catch (
                bytes memory reason
            ) {
                // Only a reserve too short to lend the loan is served in steps; any other failure surfaces as it was.
                address aToken = POOL.getReserveData(plan.debtAsset).aTokenAddress;
                uint256 available = IERC20(plan.debtAsset).balanceOf(aToken);
                if (available >= plan.flashAmount) {
                    assembly ("memory-safe") {
                        revert(add(reason, 32), mload(reason))
                    }
                }
                // A switch's loan is new collateral that the sale cannot replace piece by piece.
                if (plan.direction == Direction.Switch) {
                    revert ExecutorFlashUnavailable(plan.debtAsset, available, plan.flashAmount);
                }
                _stepWithoutFlashLoan(plan, msg.sender);
            }
        }
        execution = Execution({
            amountOut: _amountOut,
            flashPremium: _premium,
            debtRepaid: _debtRepaid,
            leftover: _leftover
        });
        // Transient storage outlives the call until the transaction ends: clear every figure, so that a later
        // execution in the same transaction reports only its own.
        _activeVault = address(0);
        _amountOut = 0;
        _premium = 0;
        _debtRepaid = 0;
        _leftover = 0;
    }

    /// @inheritdoc IFlashLoanSimpleReceiver
    /// @dev Deleverage and Close: repay the vault's debt with the loan, take its collateral, sell it, repay the loan.
    /// Switch: see `_switchCollateral`.
    function executeOperation(
        address asset,
        uint256 amount,
        uint256 premium,
        address initiator,
        bytes calldata params
    ) external override returns (bool) {
        address vault = _authenticate(initiator);
        Plan memory plan = abi.decode(params, (Plan));
        if (plan.direction == Direction.Switch) {
            _switchCollateral(vault, asset, amount, premium, plan);
            return true;
        }

        IERC20(asset).forceApprove(address(POOL), amount);
        uint256 repaid = POOL.repay(asset, amount, _VARIABLE_RATE, vault);
        // Aave repays at most the debt; a loan larger than it would strand the difference here.
        if (repaid != amount) revert ExecutorFlashExceedsDebt(amount, repaid);
        _debtRepaid = repaid;
        IBallastVault(vault).releaseCollateral(plan.amountIn);
        uint256 amountOut = _swap(plan.collateralAsset, plan.path, plan.amountIn, plan.minAmountOut);
        _amountOut = amountOut;
        _premium = premium;

        uint256 owed = amount + premium;
        if (amountOut < owed + plan.keep) revert ExecutorFlashUnpaid(amountOut, owed + plan.keep);
        _settleSurplus(asset, vault, amountOut - owed - plan.keep, owed, plan.keep, plan.direction);
        return true;
    }

    /// @inheritdoc IFlashLoanReceiver
    /// @dev Leverage: the loan is already debt on the vault (mode 2); buy collateral with `amountIn` of it, supply it
    /// to the vault and hand the vault the `keep` on top.
    function executeOperation(
        address[] calldata,
        uint256[] calldata,
        uint256[] calldata,
        address initiator,
        bytes calldata params
    ) external override returns (bool) {
        address vault = _authenticate(initiator);
        Plan memory plan = abi.decode(params, (Plan));

        uint256 amountOut = _swap(plan.debtAsset, plan.path, plan.amountIn, plan.minAmountOut);
        IERC20(plan.collateralAsset).forceApprove(address(POOL), amountOut);
        POOL.supply(plan.collateralAsset, amountOut, vault, 0);
        if (plan.keep != 0) IERC20(plan.debtAsset).safeTransfer(vault, plan.keep);

        _amountOut = amountOut;
        _leftover = plan.keep;
        return true;
    }

    /// @dev Switch: supply the loan of new collateral to the vault first, so that its HF holds while all of the old
    /// collateral is withdrawn and sold for the new; the output repays the loan and the rest is supplied too. One
    /// allowance covers the surplus's supply and the loan's `owed`, which Aave pulls after this callback.
    function _switchCollateral(
        address vault,
        address asset,
        uint256 amount,
        uint256 premium,
        Plan memory plan
    ) private {
        IERC20(asset).forceApprove(address(POOL), amount);
        POOL.supply(asset, amount, vault, 0);
        IBallastVault(vault).releaseCollateral(plan.amountIn);
        uint256 amountOut = _swap(plan.collateralAsset, plan.path, plan.amountIn, plan.minAmountOut);
        uint256 owed = amount + premium;
        if (amountOut < owed) revert ExecutorFlashUnpaid(amountOut, owed);
        IERC20(asset).forceApprove(address(POOL), amountOut);
        if (amountOut != owed) POOL.supply(asset, amountOut - owed, vault, 0);
        _amountOut = amountOut;
        _premium = premium;
    }

    /// @dev Deleverage and Close without a flash loan: release what the vault's HF can spare (at most the rest of the
    /// sale), sell it with its share of the plan's oracle-derived minimum (rounded up, so the slices' minimums add up
    /// to at least the whole's), and repay debt with the output beyond `keep`, until `amountIn` is sold. No premium is
    /// paid, so the surplus that the flash path would repay after the loan has already gone against the debt; what is
    /// held at the end (`keep`, plus anything the debt could not absorb) goes to the vault, as on the flash path.
    function _stepWithoutFlashLoan(Plan calldata plan, address vault) private {
        uint256 price = IPriceOracleGetter(ADDRESSES_PROVIDER.getPriceOracle()).getAssetPrice(plan.collateralAsset);
        uint256 unit = 10 ** IERC20Metadata(plan.collateralAsset).decimals();
        uint256 sold;
        uint256 held;
        uint256 steps;
        bool debtCleared;
        while (sold < plan.amountIn) {
            if (steps == _MAX_STEPS) revert ExecutorStepsExhausted(sold, plan.amountIn);
            ++steps;
            uint256 slice = Math.min(plan.amountIn - sold, (_withdrawHeadroomBase(vault) * unit) / price);
            held += _sellSlice(plan, vault, slice);
            sold += slice;
            if (!debtCleared && held > plan.keep) {
                (held, debtCleared) = _repayBeyondKeep(plan.debtAsset, vault, held, plan.keep);
            }
        }
        if (held != 0) IERC20(plan.debtAsset).safeTransfer(vault, held);
        _leftover = held;
        emit SteppedWithoutFlashLoan(vault, steps);
    }

    /// @dev One step's sale: `slice` of collateral released by the vault and sold for at least its share of the plan's
    /// minimum, rounded up.
    function _sellSlice(Plan calldata plan, address vault, uint256 slice) private returns (uint256 amountOut) {
        if (slice == 0) {
            (, , , , , uint256 healthFactor) = POOL.getUserAccountData(vault);
            revert ExecutorNoWithdrawHeadroom(healthFactor);
        }
        IBallastVault(vault).releaseCollateral(slice);
        amountOut = _swap(
            plan.collateralAsset,
            plan.path,
            slice,
            Math.mulDiv(plan.minAmountOut, slice, plan.amountIn, Math.Rounding.Ceil)
        );
        _amountOut += amountOut;
    }

    /// @dev Repays the vault's debt with what is held beyond `keep`. Aave repays at most the debt: past it, the rest
    /// stays held, the allowance is cleared, and `cleared` tells the caller to try no further repayment.
    function _repayBeyondKeep(
        address asset,
        address vault,
        uint256 held,
        uint256 keep
    ) private returns (uint256 stillHeld, bool cleared) {
        uint256 amount = held - keep;
        IERC20(asset).forceApprove(address(POOL), amount);
        uint256 repaid = POOL.repay(asset, amount, _VARIABLE_RATE, vault);
        cleared = repaid != amount;
        if (cleared) IERC20(asset).forceApprove(address(POOL), 0);
        _debtRepaid += repaid;
        stillHeld = held - repaid;
    }

    /// @dev The collateral value, in Aave's base units, the vault can withdraw with its HF staying at or above the
    /// step floor: (collateral - x) * threshold >= floor * debt, rounded down. Reads the vault's average threshold,
    /// which is its collateral's own when it holds only that (or its e-mode's).
    function _withdrawHeadroomBase(address vault) private view returns (uint256) {
        (uint256 collateralBase, uint256 debtBase, , uint256 thresholdBps, , ) = POOL.getUserAccountData(vault);
        if (debtBase == 0) return collateralBase;
        if (thresholdBps == 0) return 0;
        uint256 floorBase = Math.ceilDiv(debtBase * _STEP_HF_FLOOR_BPS, thresholdBps);
        return collateralBase > floorBase ? collateralBase - floorBase : 0;
    }

    function _authenticate(address initiator) private view returns (address vault) {
        if (msg.sender != address(POOL)) revert ExecutorCallerNotPool(msg.sender);
        if (initiator != address(this)) revert ExecutorInitiatorNotSelf(initiator);
        // Only `execute` starts loans with this executor as initiator, and it has set the vault first.
        vault = _activeVault;
    }

    /// @dev A Deleverage keeps some debt after the loan's repayment, so the surplus goes against it first; whatever
    /// is left (all of it on Close), plus `keep`, goes to the vault. One allowance covers the surplus's repayment and
    /// the loan's `owed`: Aave pulls exactly `owed` after this callback, leaving no allowance behind.
    function _settleSurplus(
        address asset,
        address vault,
        uint256 surplus,
        uint256 owed,
        uint256 keep,
        Direction direction
    ) private {
        if (surplus != 0 && direction == Direction.Deleverage) {
            IERC20(asset).forceApprove(address(POOL), surplus + owed);
            uint256 repaid = POOL.repay(asset, surplus, _VARIABLE_RATE, vault);
            if (repaid != surplus) IERC20(asset).forceApprove(address(POOL), owed);
            _debtRepaid += repaid;
            surplus -= repaid;
        } else {
            IERC20(asset).forceApprove(address(POOL), owed);
        }
        surplus += keep;
        if (surplus != 0) IERC20(asset).safeTransfer(vault, surplus);
        _leftover = surplus;
    }

    function _swap(
        address tokenIn,
        bytes memory path,
        uint256 amountIn,
        uint256 minAmountOut
    ) private returns (uint256) {
        // exactInput pulls all of `amountIn`, so the allowance ends at zero.
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
