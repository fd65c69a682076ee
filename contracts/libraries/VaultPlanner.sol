// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IBallastVault} from "../interfaces/IBallastVault.sol";
import {IPriceGuard} from "../interfaces/IPriceGuard.sol";
import {IRebalanceExecutor} from "../interfaces/IRebalanceExecutor.sol";
import {RebalanceMath} from "./RebalanceMath.sol";
import {SwapPath} from "./SwapPath.sol";

/// @title VaultPlanner
/// @notice A vault's rebalance maths: the plan (size, oracle floor, keeper reward, flash amount) before execution,
/// and the report and equity-loss check after it.
/// @dev An external library (public functions, linked at deployment) so that the vault fits the EIP-170 size limit;
/// the vault, and with it the factory that embeds the vault's creation code, link it. Every input comes in `Context`,
/// gathered by the vault; its errors are the vault's own, but for the price guard's route check in `sizePlan`.
library VaultPlanner {
    /// @dev Aave's base values round at each step (collateral, debt, each a few operations deep).
    uint256 private constant _BASE_ROUNDING = 4;
    /// @dev A keeper's deleverage hint sells at least 1/_MIN_PART of the computed size.
    uint256 private constant _MIN_PART = 4;

    /// @notice Everything a rebalance needs, gathered once by the vault. `payKeep` is a signed intent's debt-asset
    /// reward, kept from a deleverage's swap output like the auction's reward instead of borrowed; `debt` is the
    /// vault's variable debt in tokens (Deleverage and Close only); `priceGuard` checks the path's pools. On a Switch,
    /// the `debt*` fields describe the new collateral, which the switch flash-borrows and buys.
    struct Context {
        IPriceGuard priceGuard;
        IRebalanceExecutor.Direction direction;
        address collateralAsset;
        address debtAsset;
        uint8 collateralDecimals;
        uint8 debtDecimals;
        uint256 targetHF;
        uint256 collateralPrice;
        uint256 debtPrice;
        uint256 premiumBps;
        uint256 hfTolerance;
        uint256 slippageBps;
        uint256 rewardBps;
        uint256 gasRewardBase;
        uint256 maxRewardBase;
        uint256 payKeep;
        uint256 debt;
        IBallastVault.Position before;
    }

    /// @notice `IBallastVault.rebalanceNeeded`'s size and urgency for a vault out of its band: the collateral to sell
    /// (Deleverage, at the flash premium) or the debt asset to borrow (Leverage), at `price`; the urgency is a
    /// deleverage's only.
    /// @param premiumBps Aave's flash-loan premium for a Deleverage, 0 for a Leverage (its loan pays none).
    /// @param price The guard's price of the asset sold or borrowed, with `decimals` its token decimals.
    function hint(
        IRebalanceExecutor.Direction direction,
        IBallastVault.Position memory pos,
        IBallastVault.Policy memory p,
        uint256 premiumBps,
        uint256 price,
        uint8 decimals
    ) public pure returns (uint256 amountIn, uint256 urgency) {
        bool deleverage = direction == IRebalanceExecutor.Direction.Deleverage;
        uint256 sizeBase = (deleverage ? RebalanceMath.deleverageSize : RebalanceMath.leverageSize)(
            pos.collateralBase,
            pos.debtBase,
            pos.liquidationThresholdBps,
            p.targetHF,
            premiumBps
        );
        amountIn = RebalanceMath.toAmount(sizeBase, price, decimals);
        if (deleverage) urgency = RebalanceMath.urgency(pos.healthFactor, p.minHF);
    }

    /// @notice Sizes the move in closed form: what to sell or buy, the least output the oracle allows, the keeper's
    /// kept reward and the flash loan.
    /// @param ctx The rebalance's inputs.
    /// @param path The Uniswap V3 path, checked against the direction's tokens and the guard's allowed routes.
    /// @param maxAmountIn The caller's cap on the amount sold or spent.
    /// @return plan The plan the executor runs.
    function sizePlan(
        Context memory ctx,
        bytes calldata path,
        uint256 maxAmountIn
    ) public view returns (IRebalanceExecutor.Plan memory plan) {
        bool leverage = ctx.direction == IRebalanceExecutor.Direction.Leverage;
        (, uint256 feePips) = leverage
            ? SwapPath.validate(path, ctx.debtAsset, ctx.collateralAsset)
            : SwapPath.validate(path, ctx.collateralAsset, ctx.debtAsset);
        bool close = ctx.direction == IRebalanceExecutor.Direction.Close;
        // Fees are in hundredths of a bip; round up so that the size errs towards the safe side of the target. The
        // reward is one more cost: kept from the swap output, or borrowed on top of what is sold.
        uint256 costBps = ctx.premiumBps + (feePips + 99) / 100 + ctx.rewardBps;
        // Only governance's pools: a keeper's own pool, priced just inside the bound, would keep the slippage (R2).
        // Their expected impact on the move is one more cost, so that a thin pool's sale still lands on target.
        costBps += _impactBps(ctx, path, close ? 0 : _sizeWith(ctx, costBps));
        plan.direction = ctx.direction;
        plan.collateralAsset = ctx.collateralAsset;
        plan.debtAsset = ctx.debtAsset;
        plan.path = path;
        if (leverage) {
            uint256 borrow = RebalanceMath.toAmount(_size(ctx, costBps), ctx.debtPrice, ctx.debtDecimals);
            uint256 gasKeep = RebalanceMath.toAmount(ctx.gasRewardBase, ctx.debtPrice, ctx.debtDecimals);
            uint256 net = borrow - (borrow * ctx.rewardBps) / RebalanceMath.BPS;
            if (net < gasKeep) revert IBallastVault.VaultFeeUnavailable(plan.debtAsset, gasKeep, net);
            plan.amountIn = _min(net - gasKeep, maxAmountIn);
            plan.keep = _min(
                (plan.amountIn * ctx.rewardBps) / RebalanceMath.BPS + gasKeep,
                RebalanceMath.toAmount(ctx.maxRewardBase, ctx.debtPrice, ctx.debtDecimals)
            );
            plan.flashAmount = plan.amountIn + plan.keep;
            plan.minAmountOut = RebalanceMath.minAmountOut(
                plan.amountIn,
                ctx.debtPrice,
                ctx.debtDecimals,
                ctx.collateralPrice,
                ctx.collateralDecimals,
                ctx.slippageBps
            );
            return plan;
        }
        // Deleverage and Close only run with debt: the band check and `close` see to it.
        uint256 full = RebalanceMath.toAmount(
            close ? _closeSellBase(ctx) : _size(ctx, costBps),
            ctx.collateralPrice,
            ctx.collateralDecimals
        );
        // A deleverage may stop short of the target in a thin pool, but each keeper call must move a real part of the
        // way: it bounds how often a band exit can pay the per-call gas part.
        if (maxAmountIn < full && maxAmountIn < (full + _MIN_PART - 1) / _MIN_PART) {
            revert IBallastVault.VaultHintTooSmall(maxAmountIn, (full + _MIN_PART - 1) / _MIN_PART);
        }
        plan.amountIn = _min(full, maxAmountIn);
        plan.minAmountOut = RebalanceMath.minAmountOut(
            plan.amountIn,
            ctx.collateralPrice,
            ctx.collateralDecimals,
            ctx.debtPrice,
            ctx.debtDecimals,
            ctx.slippageBps
        );
        plan.keep =
            RebalanceMath.toAmount(
                _min((_valueIn(ctx, plan) * ctx.rewardBps) / RebalanceMath.BPS + ctx.gasRewardBase, ctx.maxRewardBase),
                ctx.debtPrice,
                ctx.debtDecimals
            ) + ctx.payKeep;
        // Also refuses a sale worth nothing (keep = minAmountOut = 0), which the flash amount below cannot size.
        if (plan.keep >= plan.minAmountOut) {
            revert IBallastVault.VaultFeeUnavailable(plan.debtAsset, plan.keep, plan.minAmountOut);
        }
        // Borrow no more than the worst accepted swap output, less the reward, can repay with its premium; on Close,
        // all the debt.
        plan.flashAmount =
            close
                ? ctx.debt
                : _min(
                    ((plan.minAmountOut - 1 - plan.keep) * RebalanceMath.BPS) / (RebalanceMath.BPS + ctx.premiumBps),
                    ctx.debt - 1
                );
    }

    /// @notice Sizes a collateral switch: all of `amountIn` of the old collateral sold along `path` for at least its
    /// oracle value in the new collateral less the slippage bound, and the largest flash loan of the new collateral
    /// that the worst accepted output repays with its premium. For a switch, `ctx.debtAsset`, `debtPrice` and
    /// `debtDecimals` describe the new collateral.
    /// @param ctx The switch's inputs.
    /// @param path The Uniswap V3 path from the old collateral to the new, through governance's routes only.
    /// @param amountIn The vault's whole balance of the old collateral.
    /// @return plan The plan the executor runs.
    function switchPlan(
        Context memory ctx,
        bytes calldata path,
        uint256 amountIn
    ) public view returns (IRebalanceExecutor.Plan memory plan) {
        SwapPath.validate(path, ctx.collateralAsset, ctx.debtAsset);
        // The routes only: the whole position is sold at once, so the minimum output alone bounds the impact.
        ctx.priceGuard.checkPath(path, 0);
        plan.direction = IRebalanceExecutor.Direction.Switch;
        plan.collateralAsset = ctx.collateralAsset;
        plan.debtAsset = ctx.debtAsset;
        plan.path = path;
        plan.amountIn = amountIn;
        plan.minAmountOut = RebalanceMath.minAmountOut(
            amountIn,
            ctx.collateralPrice,
            ctx.collateralDecimals,
            ctx.debtPrice,
            ctx.debtDecimals,
            ctx.slippageBps
        );
        // A vault with no collateral, or too little to buy a wei of the new asset, has nothing to switch.
        if (plan.minAmountOut < 2) revert IBallastVault.VaultZeroAmount();
        plan.flashAmount = ((plan.minAmountOut - 1) * RebalanceMath.BPS) / (RebalanceMath.BPS + ctx.premiumBps);
    }

    /// @notice The rebalance's report, after checking that equity fell by at most the slippage bound on the value
    /// sold, plus the flash premium, plus the rewards paid (keeper auction or signed intent) and Aave's rounding.
    /// @param ctx The rebalance's inputs.
    /// @param plan The plan executed.
    /// @param ex What the executor did; `leftover` without the kept reward.
    /// @param after_ The vault's position after execution.
    /// @param paidBase The rewards paid out of the position, base units.
    /// @return report The report, without the keeper reward and gas, which the vault fills in.
    function checkOutcome(
        Context memory ctx,
        IRebalanceExecutor.Plan memory plan,
        IRebalanceExecutor.Execution memory ex,
        IBallastVault.Position memory after_,
        uint256 paidBase
    ) public pure returns (IBallastVault.RebalanceReport memory report) {
        bool leverage = ctx.direction == IRebalanceExecutor.Direction.Leverage;
        uint256 valueOut =
            leverage
                ? RebalanceMath.toBase(ex.amountOut, ctx.collateralPrice, ctx.collateralDecimals)
                : RebalanceMath.toBase(ex.amountOut, ctx.debtPrice, ctx.debtDecimals);
        uint256 valueIn = _valueIn(ctx, plan);
        uint256 equityBefore = _equity(ctx.before);
        // Debt asset the executor handed back (all of the surplus on Close) is still the owner's equity.
        uint256 equityAfter = _equity(after_) + RebalanceMath.toBase(ex.leftover, ctx.debtPrice, ctx.debtDecimals);
        report = IBallastVault.RebalanceReport({
            direction: ctx.direction,
            amountIn: plan.amountIn,
            amountOut: ex.amountOut,
            hfBefore: ctx.before.healthFactor,
            hfAfter: after_.healthFactor,
            flashPremiumBase: RebalanceMath.toBase(ex.flashPremium, ctx.debtPrice, ctx.debtDecimals),
            swapShortfallBase: valueIn > valueOut ? valueIn - valueOut : 0,
            equityLossBase: equityBefore > equityAfter ? equityBefore - equityAfter : 0,
            keeperReward: 0,
            gasUsed: 0
        });
        // Aave rounds every token amount to a wei and values it in 8-decimal base units, so the equity comparison may
        // be off by a wei of each asset, each worth up to ceil(price / 10^decimals) base units, plus base rounding.
        uint256 allowed =
            (valueIn * ctx.slippageBps) / RebalanceMath.BPS +
                report.flashPremiumBase +
                paidBase +
                _BASE_ROUNDING +
                _ceilDiv(ctx.collateralPrice, 10 ** ctx.collateralDecimals) +
                _ceilDiv(ctx.debtPrice, 10 ** ctx.debtDecimals);
        if (report.equityLossBase > allowed) revert IBallastVault.VaultEquityLoss(report.equityLossBase, allowed);
    }

    /// @dev The size of a deleverage or leverage, in base units, with the keeper auction's gas part as a fixed cost.
    /// When the premium on that size plus the gas part exceeds the owner's `maxRewardBase`, the whole reward becomes
    /// that cap, a fixed cost, and the move is sized again; `ctx` then carries the capped reward.
    function _size(Context memory ctx, uint256 costBps) private pure returns (uint256 size) {
        size = _sizeWith(ctx, costBps);
        if ((size * ctx.rewardBps) / RebalanceMath.BPS + ctx.gasRewardBase > ctx.maxRewardBase) {
            costBps -= ctx.rewardBps;
            ctx.rewardBps = 0;
            ctx.gasRewardBase = ctx.maxRewardBase;
            size = _sizeWith(ctx, costBps);
        }
    }

    /// @dev `deleverageSize` or `leverageSize` with a fixed cost g: kept from a deleverage's swap output it leaves g
    /// more debt; borrowed on top of a leverage's purchase it is g less collateral (at most: the swap fees on it are
    /// not paid either), so the HF still lands on target.
    function _sizeWith(Context memory ctx, uint256 costBps) private pure returns (uint256) {
        IBallastVault.Position memory b = ctx.before;
        uint256 g = ctx.gasRewardBase;
        return
            ctx.direction == IRebalanceExecutor.Direction.Leverage
                ? RebalanceMath.leverageSize(
                    b.collateralBase > g ? b.collateralBase - g : 0,
                    b.debtBase,
                    b.liquidationThresholdBps,
                    ctx.targetHF,
                    costBps
                )
                : RebalanceMath.deleverageSize(
                    b.collateralBase,
                    b.debtBase + g,
                    b.liquidationThresholdBps,
                    ctx.targetHF,
                    costBps
                );
    }

    /// @dev The allowed pools' expected impact on a move of `sizeBase` (checked by the guard, §6.2), at most the
    /// slippage bound, past which the swap reverts anyway. A close (size 0) sells at the worst accepted price and
    /// needs no estimate.
    function _impactBps(Context memory ctx, bytes calldata path, uint256 sizeBase) private view returns (uint256) {
        uint256 amountIn =
            ctx.direction == IRebalanceExecutor.Direction.Leverage
                ? RebalanceMath.toAmount(sizeBase, ctx.debtPrice, ctx.debtDecimals)
                : RebalanceMath.toAmount(sizeBase, ctx.collateralPrice, ctx.collateralDecimals);
        return _min(ctx.priceGuard.checkPath(path, amountIn), ctx.slippageBps);
    }

    /// @dev Collateral value that, sold at the worst accepted price, repays all debt and the flash premium.
    function _closeSellBase(Context memory ctx) private pure returns (uint256) {
        uint256 debt = ctx.debt;
        uint256 owed = debt + (debt * ctx.premiumBps + RebalanceMath.BPS - 1) / RebalanceMath.BPS;
        uint256 owedBase = RebalanceMath.toBase(owed, ctx.debtPrice, ctx.debtDecimals) + 1;
        uint256 sellBase = (owedBase * RebalanceMath.BPS) / (RebalanceMath.BPS - ctx.slippageBps) + 1;
        return _min(sellBase, ctx.before.collateralBase);
    }

    function _valueIn(Context memory ctx, IRebalanceExecutor.Plan memory plan) private pure returns (uint256) {
        return
            ctx.direction == IRebalanceExecutor.Direction.Leverage
                ? RebalanceMath.toBase(plan.amountIn, ctx.debtPrice, ctx.debtDecimals)
                : RebalanceMath.toBase(plan.amountIn, ctx.collateralPrice, ctx.collateralDecimals);
    }

    function _equity(IBallastVault.Position memory pos) private pure returns (uint256) {
        return pos.collateralBase > pos.debtBase ? pos.collateralBase - pos.debtBase : 0;
    }

    function _ceilDiv(uint256 a, uint256 b) private pure returns (uint256) {
        return (a + b - 1) / b;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
