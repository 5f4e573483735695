package io.gatehouse.filter;

import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The rest of the chain after the current filter. One small object per step, made when the step runs.
 *
 * <p>Misuse is caught, never a hang: {@code proceed} twice throws; a filter that returns having neither answered, nor
 * proceeded, nor said it will proceed {@link #later()} is a bug, logged and answered 500 {@code filter_did_not_proceed};
 * one that said later and then does nothing within {@link #LATER_TIMEOUT} gets 504 {@code filter_timeout}; a filter that
 * throws gets 500 {@code filter_failed}.
 */
public final class FilterChain {
    private static final Logger log = LoggerFactory.getLogger(FilterChain.class);
    /** How long a filter that proceeds {@link #later()} may take. Its own calls have shorter timeouts of their own. */
    public static final Duration LATER_TIMEOUT = Duration.ofSeconds(30);

    private static final byte WAITING = 0, PROCEEDED = 1, LATER = 2;

    private final List<Filter> filters;
    private final int index;            // the filter proceed runs
    private byte state;
    private ScheduledFuture<?> deadline;

    private FilterChain(List<Filter> filters, int index) {
        this.filters = filters;
        this.index = index;
    }

    /** Runs {@code filters} on {@code exchange} from the first, on the exchange's event loop. */
    public static void start(List<Filter> filters, HttpExchange exchange) {
        run(filters, 0, exchange);
    }

    /**
     * Passes the exchange to the next filter. From any thread: the chain goes on on the exchange's event loop. If the
     * exchange ended meanwhile (the client went away, a timeout answered it), nothing more happens: no endpoint sees
     * the request.
     */
    public void proceed(HttpExchange exchange) {
        if (state == PROCEEDED) {
            throw new IllegalStateException("chain.proceed called twice by " + describe(filters.get(index - 1)));
        }
        if (index >= filters.size()) {
            throw new IllegalStateException("the last filter of a chain must answer the exchange: " + describe(filters.get(index - 1)));
        }
        state = PROCEEDED;
        EventLoop loop = exchange.eventLoop();
        if (!loop.inEventLoop()) {
            loop.execute(() -> resume(exchange));
            return;
        }
        resume(exchange);
    }

    private void resume(HttpExchange exchange) {
        if (deadline != null) deadline.cancel(false);
        if (ended(exchange)) {
            exchange.discardEarlyBody();
            return;
        }
        run(filters, index, exchange);
    }

    /**
     * Says the filter will {@link #proceed} (or answer) after it returns, once its asynchronous work is done. Without
     * this, returning without either is taken for a bug. Call it on the event loop, before returning. The exchange
     * then waits at most {@link #LATER_TIMEOUT} (504 {@code filter_timeout}).
     */
    public FilterChain later(HttpExchange exchange) {
        if (state == WAITING) {
            state = LATER;
            deadline = exchange.eventLoop().schedule(() -> {
                if (state == LATER && !ended(exchange)) {
                    log.warn("{} {}: {} did not proceed within {}; 504", exchange.listener(), exchange.path(),
                            describe(filters.get(index - 1)), LATER_TIMEOUT);
                    state = PROCEEDED; // a late proceed is then refused like a second one
                    LocalResponse.fail(exchange, HttpResponseStatus.GATEWAY_TIMEOUT, "filter_timeout");
                }
            }, LATER_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
            // an exchange that ends first (answered, the client gone) need not be held by the timer for 30 s
            ScheduledFuture<?> d = deadline;
            exchange.onComplete(e -> d.cancel(false));
        }
        return this;
    }

    private static void run(List<Filter> filters, int i, HttpExchange exchange) {
        FilterChain next = new FilterChain(filters, i + 1);
        Filter f = filters.get(i);
        try {
            f.filter(exchange, next);
        } catch (RuntimeException e) {
            log.error("{} {}: {} failed", exchange.listener(), exchange.path(), describe(f), e);
            // once it proceeded, the rest of the chain owns the exchange: only a filter that still held it is answered for
            if (next.state != PROCEEDED && !ended(exchange)) {
                next.state = PROCEEDED;
                LocalResponse.fail(exchange, HttpResponseStatus.INTERNAL_SERVER_ERROR, "filter_failed");
            }
            return;
        }
        // the last filter is the route's action: it answers, possibly later, on its own terms
        if (next.state == WAITING && i < filters.size() - 1 && !ended(exchange)) {
            log.error("{} {}: {} returned without answering or proceeding (a bug in the filter); 500",
                    exchange.listener(), exchange.path(), describe(f));
            next.state = PROCEEDED;
            LocalResponse.fail(exchange, HttpResponseStatus.INTERNAL_SERVER_ERROR, "filter_did_not_proceed");
        }
    }

    /** Answered, failed, or gone: the chain has nothing more to do. */
    private static boolean ended(HttpExchange exchange) {
        return exchange.completed() || exchange.clientGone() || exchange.localAnswer() || exchange.responseStarted();
    }

    private static String describe(Filter f) {
        return "filter " + (f instanceof NamedFilter n ? n.name() : f.getClass().getSimpleName());
    }
}
