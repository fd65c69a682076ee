// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IAaveOracle} from "@aave/core-v3/contracts/interfaces/IAaveOracle.sol";
import {IUniswapV3Factory} from "@uniswap/v3-core/contracts/interfaces/IUniswapV3Factory.sol";

/// @title IPriceGuard
/// @notice Ballast's price guard. It serves the Aave oracle price of an asset (the price Aave itself
/// uses for the health factor) only when the asset's Chainlink source is fresh, and it bounds the
/// deviation between that price and a Uniswap V3 TWAP, so that a rebalance never settles against an
/// oracle price the market disagrees with.
/// @dev Prices are in the Aave oracle's base currency (USD, 8 decimals, on Aave V3 Ethereum). Pair
/// prices are "whole quote per whole base", scaled by 1e18 (WAD), whatever the tokens' decimals.
interface IPriceGuard {
    /// @notice An address argument that must be set is zero.
    error PriceGuardZeroAddress();

    /// @notice A governance parameter lies outside its bounds.
    /// @param value The value given.
    /// @param min The smallest value accepted.
    /// @param max The largest value accepted.
    error PriceGuardParameterOutOfBounds(uint256 value, uint256 min, uint256 max);

    /// @notice The asset has no heartbeat configured, so its freshness cannot be judged.
    /// @param asset The asset.
    error PriceGuardNoHeartbeat(address asset);

    /// @notice The Aave oracle has no Chainlink source for the asset.
    /// @param asset The asset.
    error PriceGuardNoFeed(address asset);

    /// @notice The asset's price source has no `latestRoundData` (e.g. an Aave CAPO adapter), or the call reverted;
    /// set a freshness feed for the asset.
    /// @param asset The asset.
    /// @param source The contract whose `latestRoundData` was read.
    error PriceGuardNoRoundData(address asset, address source);

    /// @notice The asset's Chainlink source (or freshness feed) answered zero or a negative price, or the Aave
    /// oracle priced an asset with a freshness feed at zero.
    /// @param asset The asset.
    /// @param answer The answer read from the source.
    error PriceGuardInvalidAnswer(address asset, int256 answer);

    /// @notice The asset's Chainlink answer (or its freshness feed's) is older than its heartbeat, or dated in the
    /// future.
    /// @param asset The asset.
    /// @param updatedAt The answer's `updatedAt`.
    /// @param heartbeat The asset's heartbeat, in seconds.
    error PriceGuardStalePrice(address asset, uint256 updatedAt, uint256 heartbeat);

    /// @notice No reference pool is set for the pair, or the factory holds no pool for it.
    /// @param base The first token of the pair, as given.
    /// @param quote The second token of the pair, as given.
    error PriceGuardNoReferencePool(address base, address quote);

    /// @notice The oracle price of the pair deviates from the reference pool's TWAP by more than the bound.
    /// @param base The base token.
    /// @param quote The quote token.
    /// @param oraclePriceWad Whole quote per whole base from the oracle, WAD.
    /// @param twapPriceWad Whole quote per whole base from the TWAP, WAD.
    /// @param maxDeviationBps The bound, in basis points of the oracle price.
    error PriceGuardTwapDeviation(
        address base,
        address quote,
        uint256 oraclePriceWad,
        uint256 twapPriceWad,
        uint256 maxDeviationBps
    );

    /// @notice The Uniswap V3 factory holds no pool for the pair and fee tier, so the route cannot be allowed.
    /// @param tokenA The first token, as given.
    /// @param tokenB The second token, as given.
    /// @param fee The fee tier, in hundredths of a bip.
    error PriceGuardNoPool(address tokenA, address tokenB, uint24 fee);

    /// @notice A hop of a swap path goes through a pool governance has not allowed (see `setRoute`).
    /// @param tokenIn The hop's input token.
    /// @param tokenOut The hop's output token.
    /// @param fee The hop's fee tier, in hundredths of a bip.
    error PriceGuardRouteNotAllowed(address tokenIn, address tokenOut, uint24 fee);

    /// @notice Emitted when an asset's heartbeat is set.
    /// @param asset The asset.
    /// @param heartbeat The largest accepted age of its Chainlink answer, in seconds.
    event HeartbeatSet(address indexed asset, uint256 heartbeat);

    /// @notice Emitted when an asset's freshness feed is set or cleared.
    /// @param asset The asset.
    /// @param feed The Chainlink aggregator whose rounds prove the asset's price fresh; zero when cleared.
    event FreshnessFeedSet(address indexed asset, address feed);

    /// @notice Emitted when the reference pool of a pair is set (for both orders of the pair).
    /// @param tokenA The first token, as given to `setReferencePool`.
    /// @param tokenB The second token, as given to `setReferencePool`.
    /// @param fee The pool's fee tier, in hundredths of a bip.
    /// @param pool The pool.
    event ReferencePoolSet(address indexed tokenA, address indexed tokenB, uint24 fee, address pool);

    /// @notice Emitted when a swap route (a pool: pair and fee tier) is allowed or disallowed.
    /// @param tokenA The pair's lower token address.
    /// @param tokenB The pair's higher token address.
    /// @param fee The pool's fee tier, in hundredths of a bip.
    /// @param allowed Whether swaps may now route through the pool.
    event RouteSet(address indexed tokenA, address indexed tokenB, uint24 fee, bool allowed);

    /// @notice Emitted when the TWAP parameters are set.
    /// @param window The TWAP window, in seconds.
    /// @param maxDeviationBps The largest accepted deviation of the oracle from the TWAP, in bps.
    event TwapParametersSet(uint32 window, uint16 maxDeviationBps);

    /// @notice Emitted when the deleverage TWAP window is set.
    /// @param window The new window, in seconds.
    event DeleverageWindowSet(uint32 window);

    /// @notice The Aave oracle whose prices the guard serves.
    function ORACLE() external view returns (IAaveOracle);

    /// @notice The Uniswap V3 factory reference pools must belong to.
    function UNISWAP_FACTORY() external view returns (IUniswapV3Factory);

    /// @notice The TWAP window, in seconds.
    function twapWindow() external view returns (uint32);

    /// @notice The largest accepted deviation between the oracle price and the TWAP, in bps of the oracle price.
    function maxDeviationBps() external view returns (uint16);

    /// @notice The short TWAP window, in seconds, that `deleveragePrices` compares the oracle with.
    function deleverageWindow() external view returns (uint32);

    /// @notice The largest accepted age of an asset's Chainlink answer, in seconds; zero when not configured.
    /// @param asset The asset.
    function heartbeat(address asset) external view returns (uint256);

    /// @notice The Chainlink aggregator whose rounds are checked for an asset instead of its Aave source's;
    /// zero when none is set (the Aave source itself is checked).
    /// @param asset The asset.
    function freshnessFeed(address asset) external view returns (address);

    /// @notice The reference pool of a pair, whichever the order of the tokens; zero when none is set.
    /// @param tokenA One token of the pair.
    /// @param tokenB The other token.
    function referencePool(address tokenA, address tokenB) external view returns (address);

    /// @notice Whether swaps may route through the pool of a pair and fee tier, whichever the order of the tokens.
    /// @param tokenA One token of the pair.
    /// @param tokenB The other token.
    /// @param fee The fee tier, in hundredths of a bip.
    function routeAllowed(address tokenA, address tokenB, uint24 fee) external view returns (bool);

    /// @notice Sets an asset's heartbeat. Only the owner.
    /// @dev Use the feed's own heartbeat plus a margin: a Chainlink feed updates at least once a heartbeat.
    /// With a freshness feed set, that is the feed whose heartbeat counts. The freshness feed is unchanged.
    /// @param asset The asset; not zero.
    /// @param heartbeat The largest accepted age of its Chainlink answer, in seconds, in [60, 2 days].
    function setHeartbeat(address asset, uint256 heartbeat) external;

    /// @notice Sets or clears an asset's freshness feed. Only the owner.
    /// @dev For an Aave source without `latestRoundData` (a CAPO `PriceCapAdapter`, the WBTC adapter): the feed is
    /// the Chainlink aggregator the source reads (for CAPO, its `ASSET_TO_USD_AGGREGATOR()`). With a feed set, the
    /// feed's answer must be positive and its round within the asset's heartbeat, and the price served is
    /// `ORACLE.getAssetPrice(asset)`, the (capped) price Aave values positions with. The feed is not checked
    /// against the source: keep it in step when Aave governance replaces the source. The heartbeat is unchanged.
    /// @param asset The asset; not zero.
    /// @param feed The aggregator; zero clears it, so the Aave source's own rounds are checked again.
    function setFreshnessFeed(address asset, address feed) external;

    /// @notice Sets the reference pool of a pair, for both orders of the pair. Only the owner.
    /// @dev The pool must exist in `UNISWAP_FACTORY`. The tokens' decimals are read once here and cached:
    /// ERC-20 decimals do not change. The pool must hold enough observations for `twapWindow`, or TWAP
    /// reads revert with Uniswap's "OLD". A token with more than 36 decimals is rejected with
    /// `PriceGuardParameterOutOfBounds(decimals, 0, 36)`, as its WAD scaling could overflow.
    /// @param tokenA One token of the pair.
    /// @param tokenB The other token.
    /// @param fee The pool's fee tier.
    function setReferencePool(address tokenA, address tokenB, uint24 fee) external;

    /// @notice Allows or disallows swaps through the pool of a pair and fee tier, for both orders of the pair. Only the
    /// owner.
    /// @dev A rebalance's every hop must be an allowed pool, so a keeper cannot route through a pool it owns and keep
    /// the slippage bound as the pool's spread. Allowing requires the pool to exist in `UNISWAP_FACTORY`, else
    /// `PriceGuardNoPool`; a zero token reverts with `PriceGuardZeroAddress`. Disallowing needs no pool.
    /// @param tokenA One token of the pair.
    /// @param tokenB The other token.
    /// @param fee The fee tier, in hundredths of a bip.
    /// @param allowed Whether swaps may route through the pool.
    function setRoute(address tokenA, address tokenB, uint24 fee, bool allowed) external;

    /// @notice Sets the TWAP window and the deviation bound. Only the owner.
    /// @param window The TWAP window, in seconds, in [300, 7200].
    /// @param maxDeviationBps The largest accepted deviation, in bps, in [10, 2000].
    function setTwapParameters(uint32 window, uint16 maxDeviationBps) external;

    /// @notice Sets the short TWAP window of `deleveragePrices`. Only the owner.
    /// @param window The window, in seconds, in [24, 300]: at least two blocks, so that holding the TWAP down takes
    /// more than one block's manipulation.
    function setDeleverageWindow(uint32 window) external;

    /// @notice The Aave oracle price of `asset` in the oracle's base currency, after the staleness
    /// check on its Chainlink source, or on its freshness feed when one is set.
    /// @dev Reverts with `PriceGuardNoHeartbeat`, `PriceGuardNoFeed`, `PriceGuardNoRoundData`,
    /// `PriceGuardInvalidAnswer` or `PriceGuardStalePrice`.
    /// @param asset The asset.
    /// @return The price `AaveOracle.getAssetPrice(asset)`.
    function price(address asset) external view returns (uint256);

    /// @notice The oracle prices of base and quote after the staleness checks on both and the TWAP
    /// deviation check on the pair.
    /// @dev Reverts as `price` does for either asset, with `PriceGuardNoReferencePool`, or with
    /// `PriceGuardTwapDeviation` when |TWAP - oracle| / oracle exceeds `maxDeviationBps` (compared exactly,
    /// without rounding).
    /// @param base The base token.
    /// @param quote The quote token.
    /// @return basePrice The Aave oracle price of `base`.
    /// @return quotePrice The Aave oracle price of `quote`.
    function checkedPrices(address base, address quote) external view returns (uint256 basePrice, uint256 quotePrice);

    /// @notice The prices a risk-reducing sale of `base` for `quote` (a deleverage, a close) reads: both checked as
    /// `price` checks them, and refused only when the oracle prices `base` below the reference pool's TWAP over
    /// `deleverageWindow` by more than `maxDeviationBps`.
    /// @dev In a fast crash the long TWAP of `checkedPrices` lags the market by more than the bound, and refusing the
    /// deleverage then leaves the vault to Aave's liquidators. Two things bound the risk of this weaker check:
    /// - an oracle ABOVE the market cannot make the vault sell cheaply, since the swap's minimum output is derived from
    ///   the oracle price: such a sale fills at no less than that price less the slippage bound, or reverts;
    /// - an oracle BELOW the market (faulty, or manipulated) would sell the collateral cheaply, so it must still agree
    ///   with a TWAP, over a window short enough to follow a real crash within a minute or two but long enough that a
    ///   one-block push of the pool barely moves it.
    /// Reverts as `price` does for either asset, with `PriceGuardNoReferencePool`, or with `PriceGuardTwapDeviation`
    /// (the short TWAP in `twapPriceWad`).
    /// @param base The token sold.
    /// @param quote The token bought.
    /// @return basePrice The Aave oracle price of `base`.
    /// @return quotePrice The Aave oracle price of `quote`.
    function deleveragePrices(
        address base,
        address quote
    ) external view returns (uint256 basePrice, uint256 quotePrice);

    /// @notice The Aave oracle prices of both tokens, each checked as `price` checks it, without the TWAP agreement:
    /// what the vault's owner exits read, so that a TWAP lagging a crash cannot trap an owner.
    /// @dev Reverts as `price` does for either asset.
    /// @param base The base token.
    /// @param quote The quote token.
    /// @return basePrice The Aave oracle price of `base`.
    /// @return quotePrice The Aave oracle price of `quote`.
    function freshPrices(address base, address quote) external view returns (uint256 basePrice, uint256 quotePrice);

    /// @notice The price of one whole `base` in whole `quote` units, WAD, from the reference pool's
    /// TWAP over `twapWindow`.
    /// @dev The arithmetic mean tick is rounded toward negative infinity, as Uniswap's `OracleLibrary.consult`
    /// does; the price at that tick is then rounded down.
    /// @param base The base token.
    /// @param quote The quote token.
    /// @return The TWAP price, WAD.
    function twapPriceWad(address base, address quote) external view returns (uint256);

    /// @notice Reverts with `PriceGuardRouteNotAllowed` at the first hop of `path` whose pool is not allowed, and
    /// otherwise returns the price impact expected for selling `amountIn` along it: what a rebalance's sizing prices
    /// on top of the pools' fees.
    /// @dev `path` is a Uniswap V3 `exactInput` path, `token (20) | fee (3) | token (20) | ...`, already shaped by
    /// `SwapPath.validate`. A malformed path is not read out of bounds: hops are walked only while a whole one
    /// remains, and trailing bytes are ignored. The impact treats each allowed pool as a constant product at its
    /// in-range liquidity (`SwapImpact`): an estimate that ignores tick crossings and the pool's offset from the
    /// oracle. A pool with no liquidity in range counts as keeping nothing (10,000 bps).
    /// @param path The encoded path.
    /// @param amountIn The amount of the path's first token to price; zero reads no pool and returns 0.
    /// @return impactBps The share of the spot value lost to impact, fees excluded, in bps, rounded up.
    function checkPath(bytes calldata path, uint256 amountIn) external view returns (uint256 impactBps);

    /// @notice The same price from the Aave oracle: `basePrice * 1e18 / quotePrice`, rounded down.
    /// @dev Both prices pass the staleness checks of `price`; the TWAP deviation is not checked.
    /// @param base The base token.
    /// @param quote The quote token.
    /// @return The oracle price, WAD.
    function oraclePriceWad(address base, address quote) external view returns (uint256);
}
