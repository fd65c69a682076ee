// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IPool} from "@aave/core-v3/contracts/interfaces/IPool.sol";
import {ISwapRouter} from "@uniswap/v3-periphery/contracts/interfaces/ISwapRouter.sol";

/// @title BareRebalancer
/// @notice Gas baseline: the same Aave V3 and Uniswap V3 calls a Ballast rebalance makes, on its own position, with no
/// checks, no sizing, no oracle reads and no events. Benchmarks divide Ballast's gas by this contract's.
/// @dev Test harness only: it trusts every caller and every callback.
contract BareRebalancer {
    enum Op {
        Deleverage,
        Close,
        LeverageSimple,
        Switch,
        Unwind
    }

    IPool public immutable POOL;
    ISwapRouter public immutable ROUTER;
    address public immutable COLLATERAL;
    address public immutable DEBT;
    /// @notice The asset `switchCollateral` moves the collateral into.
    address public immutable SWITCH_TO;

    constructor(IPool pool, ISwapRouter router, address collateral, address debt, address switchTo) {
        POOL = pool;
        ROUTER = router;
        COLLATERAL = collateral;
        DEBT = debt;
        SWITCH_TO = switchTo;
        IERC20(collateral).approve(address(pool), type(uint256).max);
        IERC20(debt).approve(address(pool), type(uint256).max);
        IERC20(switchTo).approve(address(pool), type(uint256).max);
        IERC20(collateral).approve(address(router), type(uint256).max);
        IERC20(debt).approve(address(router), type(uint256).max);
    }

    /// @notice Supplies `amount` of collateral pulled from the caller, then levers up with mode-2 debt.
    function open(uint256 amount, uint256 borrow, bytes calldata path, uint256 minOut) external {
        IERC20(COLLATERAL).transferFrom(msg.sender, address(this), amount);
        POOL.supply(COLLATERAL, amount, address(this), 0);
        _flashMode2(borrow, path, minOut);
    }

    /// @notice Leverage as Ballast does it: flashLoan with interest-rate mode 2, swap, supply.
    function leverage(uint256 borrow, bytes calldata path, uint256 minOut) external {
        _flashMode2(borrow, path, minOut);
    }

    /// @notice The alternative leverage sequence: flashLoanSimple, swap, supply, borrow the loan plus premium.
    function leverageSimple(uint256 borrow, bytes calldata path, uint256 minOut) external {
        POOL.flashLoanSimple(address(this), DEBT, borrow, abi.encode(Op.LeverageSimple, 0, path, minOut), 0);
    }

    /// @notice Flash-borrow, repay debt, withdraw `sell` collateral, swap it, repay the loan and more debt.
    function deleverage(uint256 flashAmount, uint256 sell, bytes calldata path, uint256 minOut) external {
        POOL.flashLoanSimple(address(this), DEBT, flashAmount, abi.encode(Op.Deleverage, sell, path, minOut), 0);
    }

    /// @notice Repay all debt with a flash loan, sell `sell` collateral, then send everything to the caller.
    function close(uint256 debt, uint256 sell, bytes calldata path, uint256 minOut) external {
        POOL.flashLoanSimple(address(this), DEBT, debt, abi.encode(Op.Close, sell, path, minOut), 0);
        POOL.withdraw(COLLATERAL, type(uint256).max, msg.sender);
        IERC20(DEBT).transfer(msg.sender, IERC20(DEBT).balanceOf(address(this)));
    }

    /// @notice Collateral switch: flash-borrow `flashAmount` of SWITCH_TO and supply it, withdraw `sell` collateral,
    /// swap it into SWITCH_TO, and supply what the loan and its premium leave.
    function switchCollateral(uint256 flashAmount, uint256 sell, bytes calldata path, uint256 minOut) external {
        POOL.flashLoanSimple(address(this), SWITCH_TO, flashAmount, abi.encode(Op.Switch, sell, path, minOut), 0);
    }

    /// @notice Supplies `amount` of collateral pulled from the caller: a pool deposit's Aave part.
    function supply(uint256 amount) external {
        IERC20(COLLATERAL).transferFrom(msg.sender, address(this), amount);
        POOL.supply(COLLATERAL, amount, address(this), 0);
    }

    /// @notice A pool holder's exit: flash-borrow `debt`, repay it, withdraw `collateral`, buy back the loan and its
    /// premium with at most `maxIn` of it along `path` (an exactOutput path, debt asset first), and send the rest of
    /// the collateral to the caller.
    function unwind(uint256 debt, uint256 collateral, bytes calldata path, uint256 maxIn) external {
        POOL.flashLoanSimple(address(this), DEBT, debt, abi.encode(Op.Unwind, collateral, path, maxIn), 0);
        IERC20(COLLATERAL).transfer(msg.sender, IERC20(COLLATERAL).balanceOf(address(this)));
    }

    /// @notice Aave flashLoanSimple callback.
    function executeOperation(
        address,
        uint256 amount,
        uint256 premium,
        address,
        bytes calldata params
    ) external returns (bool) {
        (Op op, uint256 sell, bytes memory path, uint256 minOut) = abi.decode(params, (Op, uint256, bytes, uint256));
        if (op == Op.LeverageSimple) {
            uint256 bought = _swap(path, amount, minOut);
            POOL.supply(COLLATERAL, bought, address(this), 0);
            POOL.borrow(DEBT, amount + premium, 2, 0, address(this));
            return true;
        }
        if (op == Op.Unwind) {
            // Here `sell` is the collateral withdrawn and `minOut` the most of it the buy may spend.
            POOL.repay(DEBT, amount, 2, address(this));
            POOL.withdraw(COLLATERAL, sell, address(this));
            ROUTER.exactOutput(
                ISwapRouter.ExactOutputParams({
                    path: path,
                    recipient: address(this),
                    deadline: block.timestamp,
                    amountOut: amount + premium,
                    amountInMaximum: minOut
                })
            );
            return true;
        }
        if (op == Op.Switch) {
            POOL.supply(SWITCH_TO, amount, address(this), 0);
            POOL.withdraw(COLLATERAL, sell, address(this));
            POOL.supply(SWITCH_TO, _swap(path, sell, minOut) - amount - premium, address(this), 0);
            return true;
        }
        POOL.repay(DEBT, amount, 2, address(this));
        POOL.withdraw(COLLATERAL, sell, address(this));
        uint256 out = _swap(path, sell, minOut);
        if (op == Op.Deleverage) POOL.repay(DEBT, out - amount - premium, 2, address(this));
        return true;
    }

    /// @notice Aave flashLoan callback (mode 2: the loan is already debt).
    function executeOperation(
        address[] calldata,
        uint256[] calldata amounts,
        uint256[] calldata,
        address,
        bytes calldata params
    ) external returns (bool) {
        (bytes memory path, uint256 minOut) = abi.decode(params, (bytes, uint256));
        POOL.supply(COLLATERAL, _swap(path, amounts[0], minOut), address(this), 0);
        return true;
    }

    function _flashMode2(uint256 borrow, bytes calldata path, uint256 minOut) private {
        address[] memory assets = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        uint256[] memory modes = new uint256[](1);
        assets[0] = DEBT;
        amounts[0] = borrow;
        modes[0] = 2;
        POOL.flashLoan(address(this), assets, amounts, modes, address(this), abi.encode(path, minOut), 0);
    }

    function _swap(bytes memory path, uint256 amountIn, uint256 minOut) private returns (uint256) {
        return
            ROUTER.exactInput(
                ISwapRouter.ExactInputParams({
                    path: path,
                    recipient: address(this),
                    deadline: block.timestamp,
                    amountIn: amountIn,
                    amountOutMinimum: minOut
                })
            );
    }
}
