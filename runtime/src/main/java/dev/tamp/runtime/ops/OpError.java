package dev.tamp.runtime.ops;

import dev.tamp.core.error.UnsupportedModelException;

/** An op that cannot run on the given inputs (bad shape, unsupported attribute): exit code 3. */
public final class OpError extends UnsupportedModelException {
    public OpError(String message) {
        super(message);
    }
}
