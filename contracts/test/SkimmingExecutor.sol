// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IFlashLoanReceiver} from "@aave/core-v3/contracts/flashloan/interfaces/IFlashLoanReceiver.sol";
import {IPool} from "@aave/core-v3/contracts/interfaces/IPool.sol";
import {IPoolAddressesProvider} from "@aave/core-v3/contracts/interfaces/IPoolAddressesProvider.sol";
import {ISwapRouter} from "@uniswap/v3-periphery/contracts/interfaces/ISwapRouter.sol";

import {IRebalanceExecutor} from "../interfaces/IRebalanceExecutor.sol";

/// @title SkimmingExecutor
/// @notice A test-only, deliberately dishonest executor for the vault's outcome checks. It handles Leverage only:
/// it flash-borrows the debt asset in mode 2 on the calling vault's delegated credit, buys collateral along the
/// plan's path with the plan's minimum output, then supplies only `1 - skimBps / 10000` of what it bought to the
/// vault and keeps the rest, as a thief or a bug would. A vault wired to it must refuse the outcome.
contract SkimmingExecutor is IRebalanceExecutor, IFlashLoanReceiver {
    uint256 private constant _BPS = 10_000;
    uint256 private constant _VARIABLE_RATE = 2;

    // The interface fixes these getters' names.
    /// @inheritdoc IFlashLoanReceiver
    IPoolAddressesProvider public immutable override ADDRESSES_PROVIDER;
    /// @inheritdoc IFlashLoanReceiver
    IPool public immutable override POOL;
    /// @notice The Uniswap V3 SwapRouter the swaps go through.
    ISwapRouter public immutable ROUTER;

    /// @notice The share of the bought collateral kept back from the vault, in bps.
    uint256 public skimBps;

    address private transient _vault;
    uint256 private transient _amountOut;

    /// @notice Only Leverage plans are handled.
    error SkimmingExecutorUnsupported(Direction direction);
    /// @notice `skimBps` above 10000.
    error SkimmingExecutorSkimTooHigh(uint256 skimBps);
    /// @notice `executeOperation` was not called by the Aave pool for a loan this contract started.
    error SkimmingExecutorBadCallback(address caller, address initiator);

    /// @param provider The Aave market's addresses provider; the pool is read from it once.
    /// @param router The Uniswap V3 SwapRouter.
    constructor(IPoolAddressesProvider provider, ISwapRouter router) {
        ADDRESSES_PROVIDER = provider;
        POOL = IPool(provider.getPool());
        ROUTER = router;
    }

    /// @notice Sets the share of the bought collateral to keep back.
    /// @param skimBps_ The share, in bps; at most 10000.
    function setSkimBps(uint256 skimBps_) external {
        if (skimBps_ > _BPS) revert SkimmingExecutorSkimTooHigh(skimBps_);
        skimBps = skimBps_;
    }

    /// @inheritdoc IRebalanceExecutor
    function execute(Plan calldata plan) external override returns (Execution memory execution) {
        if (plan.direction != Direction.Leverage) revert SkimmingExecutorUnsupported(plan.direction);
        _vault = msg.sender;
        address[] memory assets = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        uint256[] memory modes = new uint256[](1);
        assets[0] = plan.debtAsset;
        amounts[0] = plan.flashAmount;
        modes[0] = _VARIABLE_RATE;
        POOL.flashLoan(address(this), assets, amounts, modes, msg.sender, abi.encode(plan), 0);
        execution.amountOut = _amountOut;
    }

    /// @inheritdoc IFlashLoanReceiver
    function executeOperation(
        address[] calldata,
        uint256[] calldata amounts,
        uint256[] calldata,
        address initiator,
        bytes calldata params
    ) external override returns (bool) {
        if (msg.sender != address(POOL) || initiator != address(this)) {
            revert SkimmingExecutorBadCallback(msg.sender, initiator);
        }
        Plan memory plan = abi.decode(params, (Plan));
        IERC20(plan.debtAsset).approve(address(ROUTER), amounts[0]);
        uint256 amountOut = ROUTER.exactInput(
            ISwapRouter.ExactInputParams({
                path: plan.path,
                recipient: address(this),
                deadline: block.timestamp,
                amountIn: amounts[0],
                amountOutMinimum: plan.minAmountOut
            })
        );
        uint256 supplied = (amountOut * (_BPS - skimBps)) / _BPS;
        IERC20(plan.collateralAsset).approve(address(POOL), supplied);
        POOL.supply(plan.collateralAsset, supplied, _vault, 0);
        _amountOut = amountOut;
        return true;
    }
}
