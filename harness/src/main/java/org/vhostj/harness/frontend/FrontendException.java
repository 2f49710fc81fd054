package org.vhostj.harness.frontend;

/**
 * A vhost-user request failed: the backend NACKed it, replied with something malformed, closed the
 * connection or did not answer in time. The message starts with the request's name
 * ({@code "SET_VRING_ADDR: backend replied 1 (failure)"}).
 */
public final class FrontendException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong, for callers (the hostile mode) that tell "closed" from "refused" from "hung". */
    public enum Kind { NACK, BAD_REPLY, CLOSED, TIMEOUT, IO, UNSUPPORTED }

    private final Kind kind;

    public FrontendException(Kind kind, String request, String message) {
        super(request + ": " + message);
        this.kind = kind;
    }

    public Kind kind() { return kind; }
}
