// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IAaveOracle} from "@aave/core-v3/contracts/interfaces/IAaveOracle.sol";
import {IUniswapV3Factory} from "@uniswap/v3-core/contracts/interfaces/IUniswapV3Factory.sol";
import {IUniswapV3Pool} from "@uniswap/v3-core/contracts/interfaces/IUniswapV3Pool.sol";

import {IPriceGuard} from "../interfaces/IPriceGuard.sol";
import {IAggregatorV3} from "../interfaces/external/IAggregatorV3.sol";
import {SwapImpact} from "../libraries/SwapImpact.sol";
import {TwapMath} from "../libraries/TwapMath.sol";

/// @title PriceGuard
/// @notice Serves Aave oracle prices behind a Chainlink staleness check and a bound on their deviation
/// from a Uniswap V3 TWAP.
contract PriceGuard is IPriceGuard, Ownable2Step {
    /// @dev A reference pool as seen from one order of its pair: (first key, second key) = (base, quote).
    /// Decimals are cached so that a TWAP read costs one storage slot and no token calls.
    struct PoolRef {
        address pool;
        uint8 baseDecimals;
        uint8 quoteDecimals;
    }

    /// @dev The TWAP parameters share one slot and are read together.
    struct TwapParams {
        uint32 window;
        uint16 maxDeviationBps;
        uint32 deleverageWindow;
    }

    /// @dev An asset's staleness settings share one slot, so a price read costs one SLOAD either way.
    /// `feed` is zero unless the Aave source lacks `latestRoundData` (see `setFreshnessFeed`).
    struct Freshness {
        uint96 heartbeat;
        address feed;
    }

    uint256 public constant MIN_HEARTBEAT = 60;
    uint256 public constant MAX_HEARTBEAT = 2 days;
    uint32 public constant MIN_TWAP_WINDOW = 300;
    uint32 public constant MAX_TWAP_WINDOW = 7200;
    uint32 public constant MIN_DELEVERAGE_WINDOW = 24;
    uint32 public constant MAX_DELEVERAGE_WINDOW = 300;
    /// @dev Five mainnet blocks: a real crash shows in it within a minute.
    uint32 public constant DEFAULT_DELEVERAGE_WINDOW = 60;
    uint16 public constant MIN_DEVIATION_BPS = 10;
    uint16 public constant MAX_DEVIATION_BPS = 2000;
    /// @dev Beyond 36 decimals the WAD scaling of a TWAP price could overflow.
    uint8 public constant MAX_TOKEN_DECIMALS = 36;
    uint256 private constant _BPS = 10_000;

    /// @inheritdoc IPriceGuard
    IAaveOracle public immutable override ORACLE;
    /// @inheritdoc IPriceGuard
    IUniswapV3Factory public immutable override UNISWAP_FACTORY;

    TwapParams private _twap;
    mapping(address asset => Freshness) private _freshness;
    mapping(address base => mapping(address quote => PoolRef)) private _pools;
    /// @dev Keyed by the sorted pair, so one write serves both orders; the pool when allowed, else zero.
    mapping(address token0 => mapping(address token1 => mapping(uint24 fee => address pool))) private _routes;

    /// @param oracle The Aave oracle.
    /// @param factory The Uniswap V3 factory.
    /// @param owner_ The governance owner.
    /// @param window The TWAP window, in seconds, in [300, 7200].
    /// @param maxDeviationBps_ The deviation bound, in bps, in [10, 2000].
    constructor(
        IAaveOracle oracle,
        IUniswapV3Factory factory,
        address owner_,
        uint32 window,
        uint16 maxDeviationBps_
    ) Ownable(_nonZero(owner_)) {
        ORACLE = IAaveOracle(_nonZero(address(oracle)));
        UNISWAP_FACTORY = IUniswapV3Factory(_nonZero(address(factory)));
        _setTwapParameters(window, maxDeviationBps_);
        _twap.deleverageWindow = DEFAULT_DELEVERAGE_WINDOW;
        emit DeleverageWindowSet(DEFAULT_DELEVERAGE_WINDOW);
    }

    /// @inheritdoc IPriceGuard
    function twapWindow() external view override returns (uint32) {
        return _twap.window;
    }

    /// @inheritdoc IPriceGuard
    function maxDeviationBps() external view override returns (uint16) {
        return _twap.maxDeviationBps;
    }

    /// @inheritdoc IPriceGuard
    function deleverageWindow() external view override returns (uint32) {
        return _twap.deleverageWindow;
    }

    /// @inheritdoc IPriceGuard
    function heartbeat(address asset) external view override returns (uint256) {
        return _freshness[asset].heartbeat;
    }

    /// @inheritdoc IPriceGuard
    function freshnessFeed(address asset) external view override returns (address) {
        return _freshness[asset].feed;
    }

    /// @inheritdoc IPriceGuard
    function referencePool(address tokenA, address tokenB) external view override returns (address) {
        return _pools[tokenA][tokenB].pool;
    }

    /// @inheritdoc IPriceGuard
    function routeAllowed(address tokenA, address tokenB, uint24 fee) external view override returns (bool) {
        (address token0, address token1) = _sorted(tokenA, tokenB);
        return _routes[token0][token1][fee] != address(0);
    }

    /// @inheritdoc IPriceGuard
    function setHeartbeat(address asset, uint256 heartbeat_) external override onlyOwner {
        if (asset == address(0)) revert PriceGuardZeroAddress();
        _checkBounds(heartbeat_, MIN_HEARTBEAT, MAX_HEARTBEAT);
        // Bounded by MAX_HEARTBEAT above, so the narrowing is exact.
        _freshness[asset].heartbeat = uint96(heartbeat_);
        emit HeartbeatSet(asset, heartbeat_);
    }

    /// @inheritdoc IPriceGuard
    function setFreshnessFeed(address asset, address feed) external override onlyOwner {
        if (asset == address(0)) revert PriceGuardZeroAddress();
        _freshness[asset].feed = feed;
        emit FreshnessFeedSet(asset, feed);
    }

    /// @inheritdoc IPriceGuard
    function setReferencePool(address tokenA, address tokenB, uint24 fee) external override onlyOwner {
        // The factory knows no pool for a zero token or for a token paired with itself.
        address pool = UNISWAP_FACTORY.getPool(tokenA, tokenB, fee);
        if (pool == address(0)) revert PriceGuardNoReferencePool(tokenA, tokenB);
        uint8 decimalsA = _decimals(tokenA);
        uint8 decimalsB = _decimals(tokenB);
        _pools[tokenA][tokenB] = PoolRef(pool, decimalsA, decimalsB);
        _pools[tokenB][tokenA] = PoolRef(pool, decimalsB, decimalsA);
        emit ReferencePoolSet(tokenA, tokenB, fee, pool);
    }

    /// @inheritdoc IPriceGuard
    function setRoute(address tokenA, address tokenB, uint24 fee, bool allowed) external override onlyOwner {
        if (tokenA == address(0) || tokenB == address(0)) revert PriceGuardZeroAddress();
        // The factory knows no pool for a token paired with itself, so that case fails here too.
        address pool = allowed ? UNISWAP_FACTORY.getPool(tokenA, tokenB, fee) : address(0);
        if (allowed && pool == address(0)) revert PriceGuardNoPool(tokenA, tokenB, fee);
        (address token0, address token1) = _sorted(tokenA, tokenB);
        _routes[token0][token1][fee] = pool;
        emit RouteSet(token0, token1, fee, allowed);
    }

    /// @inheritdoc IPriceGuard
    function setTwapParameters(uint32 window, uint16 maxDeviationBps_) external override onlyOwner {
        _setTwapParameters(window, maxDeviationBps_);
    }

    /// @inheritdoc IPriceGuard
    function setDeleverageWindow(uint32 window) external override onlyOwner {
        _checkBounds(window, MIN_DELEVERAGE_WINDOW, MAX_DELEVERAGE_WINDOW);
        _twap.deleverageWindow = window;
        emit DeleverageWindowSet(window);
    }

    /// @inheritdoc IPriceGuard
    function price(address asset) external view override returns (uint256) {
        return _checkedPrice(asset);
    }

    /// @inheritdoc IPriceGuard
    function checkedPrices(
        address base,
        address quote
    ) external view override returns (uint256 basePrice, uint256 quotePrice) {
        TwapParams memory params = _twap;
        return _agreedPrices(base, quote, params.window, params.maxDeviationBps, false);
    }

    /// @inheritdoc IPriceGuard
    function deleveragePrices(
        address base,
        address quote
    ) external view override returns (uint256 basePrice, uint256 quotePrice) {
        TwapParams memory params = _twap;
        return _agreedPrices(base, quote, params.deleverageWindow, params.maxDeviationBps, true);
    }

    /// @inheritdoc IPriceGuard
    function freshPrices(
        address base,
        address quote
    ) external view override returns (uint256 basePrice, uint256 quotePrice) {
        return (_checkedPrice(base), _checkedPrice(quote));
    }

    /// @inheritdoc IPriceGuard
    function twapPriceWad(address base, address quote) external view override returns (uint256) {
        return _twapPriceWad(_poolRef(base, quote), base < quote, _twap.window);
    }

    /// @inheritdoc IPriceGuard
    function oraclePriceWad(address base, address quote) external view override returns (uint256) {
        return (_checkedPrice(base) * TwapMath.WAD) / _checkedPrice(quote);
    }

    /// @inheritdoc IPriceGuard
    function checkPath(bytes calldata path, uint256 amountIn) external view override returns (uint256 impactBps) {
        uint256 retained = SwapImpact.WAD;
        uint256 amount = amountIn;
        // A hop is 43 bytes read from its first token: token (20) | fee (3) | token (20); the next hop starts 23 on.
        for (uint256 offset = 0; offset + 43 <= path.length; offset += 23) {
            (address pool, uint24 fee, bool zeroForOne) = _route(path[offset:offset + 43]);
            // Every hop is checked; the pools are read only while there is an amount to price.
            if (amount != 0) {
                (retained, amount) = _priceHop(pool, fee, zeroForOne, amount, retained, offset + 66 <= path.length);
            }
        }
        return amountIn == 0 ? 0 : SwapImpact.lostBps(retained);
    }

    /// @dev The oracle prices once they agree with the TWAP over `window`: within `maxDeviation` either way, or, when
    /// `belowOnly`, unless the oracle prices `base` lower than the TWAP by more than it.
    function _agreedPrices(
        address base,
        address quote,
        uint32 window,
        uint16 maxDeviation,
        bool belowOnly
    ) private view returns (uint256 basePrice, uint256 quotePrice) {
        PoolRef memory ref = _poolRef(base, quote);
        basePrice = _checkedPrice(base);
        quotePrice = _checkedPrice(quote);
        uint256 oracleWad = (basePrice * TwapMath.WAD) / quotePrice;
        uint256 twapWad = _twapPriceWad(ref, base < quote, window);
        uint256 diff =
            twapWad > oracleWad
                ? twapWad - oracleWad
                : belowOnly
                    ? 0
                    : oracleWad - twapWad;
        // Compared without dividing, so a deviation a hair above the bound is not rounded down into it.
        if (diff * _BPS > oracleWad * maxDeviation) {
            revert PriceGuardTwapDeviation(base, quote, oracleWad, twapWad, maxDeviation);
        }
    }

    function _setTwapParameters(uint32 window, uint16 maxDeviationBps_) private {
        _checkBounds(window, MIN_TWAP_WINDOW, MAX_TWAP_WINDOW);
        _checkBounds(maxDeviationBps_, MIN_DEVIATION_BPS, MAX_DEVIATION_BPS);
        (_twap.window, _twap.maxDeviationBps) = (window, maxDeviationBps_);
        emit TwapParametersSet(window, maxDeviationBps_);
    }

    /// @dev The Aave oracle price, after checking the Chainlink source it reads (or the asset's freshness feed).
    function _checkedPrice(address asset) private view returns (uint256) {
        Freshness memory freshness = _freshness[asset];
        if (freshness.heartbeat == 0) revert PriceGuardNoHeartbeat(asset);
        if (freshness.feed != address(0)) return _adapterPrice(asset, freshness);
        // Read the source live: Aave governance may replace it at any time.
        address source = ORACLE.getSourceOfAsset(asset);
        if (source == address(0)) revert PriceGuardNoFeed(asset);
        // AaveOracle.getAssetPrice returns this same source's latest answer when it is positive, so reading it
        // again through Aave would cost two more calls for the same number.
        return uint256(_freshAnswer(asset, source, freshness.heartbeat));
    }

    /// @dev For a source without rounds (a CAPO adapter): the feed proves its input fresh, and Aave's own price,
    /// capped or composed by the adapter, is the one served.
    function _adapterPrice(address asset, Freshness memory freshness) private view returns (uint256 price_) {
        _freshAnswer(asset, freshness.feed, freshness.heartbeat);
        price_ = ORACLE.getAssetPrice(asset);
        if (price_ == 0) revert PriceGuardInvalidAnswer(asset, 0);
    }

    /// @dev The positive answer of `feed`'s latest round, which must be at most `maxAge` old. The call is made by
    /// hand so that a source without `latestRoundData` gets a named error at no cost to the common path (a `try`
    /// adds an extcodesize check), and only the two words used are read.
    function _freshAnswer(address asset, address feed, uint256 maxAge) private view returns (int256 answer) {
        bytes4 selector = IAggregatorV3.latestRoundData.selector;
        bool ok;
        uint256 updatedAt;
        assembly ("memory-safe") {
            mstore(0, selector)
            // The five words of (roundId, answer, startedAt, updatedAt, answeredInRound); an account without
            // code, or a fallback answering less, fails here as a revert does.
            ok := staticcall(gas(), feed, 0, 4, 0, 0)
            // Yul evaluates arguments right to left, so the size is read in a second statement, after the call.
            ok := and(ok, gt(returndatasize(), 159))
            if ok {
                returndatacopy(0, 32, 32)
                returndatacopy(32, 96, 32)
                answer := mload(0)
                updatedAt := mload(32)
            }
        }
        if (!ok) revert PriceGuardNoRoundData(asset, feed);
        if (answer <= 0) revert PriceGuardInvalidAnswer(asset, answer);
        // A Chainlink round is stamped with its block's time; a future stamp comes from a broken feed,
        // so it is rejected rather than trusted as fresh.
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > maxAge) {
            revert PriceGuardStalePrice(asset, updatedAt, maxAge);
        }
    }

    /// @dev The allowed pool of one hop, `tokenIn (20) | fee (3) | tokenOut (20)`, else `PriceGuardRouteNotAllowed`.
    function _route(bytes calldata hop) private view returns (address pool, uint24 fee, bool zeroForOne) {
        address tokenIn = address(bytes20(hop[:20]));
        fee = uint24(bytes3(hop[20:23]));
        address tokenOut = address(bytes20(hop[23:43]));
        (address token0, address token1) = _sorted(tokenIn, tokenOut);
        pool = _routes[token0][token1][fee];
        if (pool == address(0)) revert PriceGuardRouteNotAllowed(tokenIn, tokenOut, fee);
        zeroForOne = tokenIn == token0;
    }

    /// @dev `SwapImpact.hop` at the pool's current price and in-range liquidity.
    function _priceHop(
        address pool,
        uint24 fee,
        bool zeroForOne,
        uint256 amount,
        uint256 retained,
        bool withOutput
    ) private view returns (uint256, uint256) {
        (uint160 sqrtPriceX96, , , , , , ) = IUniswapV3Pool(pool).slot0();
        return
            SwapImpact.hop(
                sqrtPriceX96,
                IUniswapV3Pool(pool).liquidity(),
                fee,
                zeroForOne,
                amount,
                retained,
                withOutput
            );
    }

    function _poolRef(address base, address quote) private view returns (PoolRef memory ref) {
        ref = _pools[base][quote];
        if (ref.pool == address(0)) revert PriceGuardNoReferencePool(base, quote);
    }

    function _twapPriceWad(PoolRef memory ref, bool baseIsToken0, uint32 window) private view returns (uint256) {
        uint32[] memory secondsAgos = new uint32[](2);
        secondsAgos[0] = window;
        (int56[] memory tickCumulatives, ) = IUniswapV3Pool(ref.pool).observe(secondsAgos);
        int24 tick = TwapMath.meanTick(tickCumulatives[1] - tickCumulatives[0], window);
        return TwapMath.priceWadAtTick(tick, baseIsToken0, ref.baseDecimals, ref.quoteDecimals);
    }

    function _decimals(address token) private view returns (uint8 decimals) {
        decimals = IERC20Metadata(token).decimals();
        if (decimals > MAX_TOKEN_DECIMALS) {
            revert PriceGuardParameterOutOfBounds(decimals, 0, MAX_TOKEN_DECIMALS);
        }
    }

    function _checkBounds(uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert PriceGuardParameterOutOfBounds(value, min, max);
    }

    function _sorted(address tokenA, address tokenB) private pure returns (address, address) {
        return tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
    }

    function _nonZero(address account) private pure returns (address) {
        if (account == address(0)) revert PriceGuardZeroAddress();
        return account;
    }
}
